import { parseConfig } from '../../config/load';
import { configProblems } from '../helpers/config-problems';
import { nextWallTime } from '../../common/session-time';
import { runDeadline } from '../../activities/plan-run';
import { lateMessage } from '../../activities/notify';
import type { RunSummary } from '../../common/payloads';

const withPipeline = (extra: string) => `
bigquery:
  project: p
sources:
  shop:
    type: mysql
    url: \${SHOP_URL}
    tables: [customers, { name: orders, where: "created_at >= {{session_date}}" }]
pipelines:
  nightly:
    sources: [shop]
${extra}`;

const problem = (text: string): string => configProblems(text);

describe('sla: in the config', () => {
  test('a time of day or a duration, not both; a bad time and a bad where: are named', () => {
    expect(() => parseConfig(withPipeline('    sla: { time: "06:00" }\n    timezone: Asia/Tokyo\n'), 'f')).not.toThrow();
    expect(() => parseConfig(withPipeline('    sla: { after: 2h }\n'), 'f')).not.toThrow();
    expect(problem(withPipeline('    sla: { time: "06:00", after: 2h }\n'))).toContain('pipelines.nightly.sla: give exactly one of time: or after:');
    expect(problem(withPipeline('    sla: { time: "6 am" }\n'))).toContain('pipelines.nightly.sla.time: a time of day such as "06:00"');
    expect(problem(withPipeline('').replace('{{session_date}}', '{{today}}'))).toContain('where: unknown placeholder {{today}}');
  });
});

describe('the run\'s deadline', () => {
  test('a time of day is the first such time at or after the start, in the pipeline\'s zone', () => {
    expect(nextWallTime('2026-11-24T22:00:00Z', '09:00', 'Asia/Tokyo')).toBe('2026-11-25T00:00:00.000Z'); // 07:00 JST start
    expect(nextWallTime('2026-11-25T01:00:00Z', '09:00', 'Asia/Tokyo')).toBe('2026-11-26T00:00:00.000Z'); // 10:00 JST: the next day
    expect(nextWallTime('2026-11-25T00:00:00Z', '09:00', 'Asia/Tokyo')).toBe('2026-11-25T00:00:00.000Z'); // exactly then
    // 02:30 does not exist on 2026-03-08 in New York (02:00 jumps to 03:00): the first minute after the jump.
    expect(nextWallTime('2026-03-08T05:00:00Z', '02:30', 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
  });

  test('from the config: time in the pipeline\'s zone, or a duration after the start', () => {
    const { config } = parseConfig(withPipeline('    sla: { time: "09:00" }\n    schedule: { cron: "0 7 * * *", timezone: Asia/Tokyo }\n'), 'f');
    expect(runDeadline(config.pipelines.nightly, '2026-11-24T22:00:00.000Z')).toEqual({ deadline: '2026-11-25T00:00:00.000Z', rule: 'time 09:00 Asia/Tokyo' });
    const after = parseConfig(withPipeline('    sla: { after: 90m }\n'), 'f').config;
    expect(runDeadline(after.pipelines.nightly, '2026-11-24T22:00:00.000Z')).toEqual({ deadline: '2026-11-24T23:30:00.000Z', rule: 'after 90m' });
  });
});

test('the late message names what still runs and waits, and how long the run has gone', () => {
  const { config } = parseConfig(withPipeline(''), 'f');
  const summary: RunSummary = {
    pipeline: 'nightly', startedAt: '2026-11-24T22:00:00.000Z', succeeded: 1, failed: 0, skipped: 0, running: 1, pending: 1, rowsLoaded: 5,
    results: [
      { key: 'shop.customers', kind: 'table', status: 'succeeded', runs: 1 },
      { key: 'shop.orders', kind: 'table', status: 'running', runs: 1 },
      { key: 'daily', kind: 'step', status: 'waiting', runs: 0 },
    ],
    late: { deadline: '2026-11-25T00:00:00.000Z', rule: 'time 09:00 Asia/Tokyo', notedAt: '2026-11-25T00:00:01.000Z' },
  } as RunSummary;
  const m = lateMessage(config, { pipeline: 'nightly', workflowId: 'bqsync-nightly', runId: 'r1', summary });
  expect(m.text).toBe(
    'bqsync: pipeline nightly is late: its deadline (time 09:00 Asia/Tokyo, 2026-11-25T00:00:00.000Z) passed after 2h 0m with ' +
      '1 tables/steps running (shop.orders) and 1 waiting (daily); 1 succeeded, 0 failed so far',
  );
});

describe('requires: between pipelines', () => {
  const two = (marts: string, nightlyExtra = '') => `
bigquery:
  project: p
sources:
  shop:
    type: mysql
    url: \${SHOP_URL}
    tables: [customers, orders]
pipelines:
  nightly:
    sources: [shop]
${nightlyExtra}  marts:
${marts}`;
  const marts = (requires: string) => `    requires: [${requires}]
    steps:
      - { name: revenue, after: [shop.orders], sql: "SELECT 1" }
`;

  test('a pipeline of SQL steps may wait for another pipeline\'s tables, and name them in after:', () => {
    const { config } = parseConfig(two(marts('{ pipeline: nightly, tables: [shop.orders], timeout: 2h }')), 'f');
    expect(config.pipelines.marts).toMatchObject({ sources: [], requires: [{ pipeline: 'nightly', tables: ['shop.orders'], timeout: '2h' }] });
  });

  test('unknown pipelines and tables, the pipeline itself, and cycles are refused', () => {
    expect(problem(two(marts('{ pipeline: nighty, tables: [shop.orders] }')))).toContain('pipelines.marts.requires.0.pipeline names "nighty", which is not declared under pipelines:');
    expect(problem(two(marts('{ pipeline: nightly, tables: [shop.order] }')))).toContain('pipelines.marts.requires.0.tables names "shop.order", which is not a table of pipeline nightly (its sources: shop)');
    expect(problem(two(marts('{ pipeline: marts, tables: [shop.orders] }')))).toContain('pipelines.marts.requires.0.pipeline names the pipeline itself');
    const cyclic = two(marts('{ pipeline: nightly, tables: [shop.orders] }') + '    sources: [shop]\n', '    requires: [{ pipeline: marts, tables: [shop.customers] }]\n');
    expect(problem(cyclic)).toContain('pipelines: the requires: between pipelines form a cycle: nightly -> marts -> nightly');
    expect(problem(two('    steps: [{ name: s, after: [x], sql: "SELECT 1" }]\n'))).toContain('pipelines.marts.sources: name at least one source');
  });
});
