import { eventually, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables } from '../helpers/source-tables';
import type { RunSummary } from '../../common/payloads';

// A schedule every 10 minutes, paused so that only the backfill starts runs.
const config = testConfig(
  'it-backfill',
  { shop: mysqlSource('it_bf_shop', { tables: ['x_bf_1'] }) },
  { itbackfill: { sources: ['shop'], schedule: { every: '10m' } }, itnosched: { sources: ['shop'] } },
);

let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  await createSmallTables(['x_bf_1'], 5);
  file = writeConfig(config);
  worker = await startWorker(file);
  expect((await runCli(['--config', file, 'schedule', 'apply'])).code).toBe(0);
  expect((await runCli(['--config', file, 'schedule', 'pause', 'itbackfill', '--note', 'backfill test'])).code).toBe(0);
});

afterAll(async () => {
  const client = await temporalClient();
  await client.schedule.getHandle('bqsync-itbackfill').delete().catch(() => undefined);
  await client.connection.close();
  await worker?.stop();
});

test('a backfill over a short window starts one run per scheduled time, one after another', async () => {
  const since = new Date().toISOString();
  const res = await runCli([
    '--config', file, 'schedule', 'backfill', 'itbackfill', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T00:30:00Z', '--json',
  ]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  const answer = JSON.parse(res.stdout) as { runs: string[]; overlap: string };
  expect(answer.overlap).toBe('buffer_all');
  expect(answer.runs).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-01T00:10:00.000Z', '2026-11-01T00:20:00.000Z']);

  const client = await temporalClient();
  try {
    const runs = await eventually(
      async () => {
        const done = [];
        for await (const wf of client.workflow.list({ query: `BqsyncPipeline = 'itbackfill' AND WorkflowType = 'nightlySync' AND ExecutionStatus = 'Completed' AND StartTime > '${since}'` })) {
          done.push(wf);
        }
        return done.length === 3 ? done : undefined;
      },
      120_000,
      'three completed backfilled runs',
    );
    expect(runs.map((r) => r.workflowId).sort()).toEqual([
      'bqsync-itbackfill-2026-11-01T00:00:00Z',
      'bqsync-itbackfill-2026-11-01T00:10:00Z',
      'bqsync-itbackfill-2026-11-01T00:20:00Z',
    ]);
    // buffer_all: never two runs of the pipeline at once.
    const spans = runs.map((r) => [r.startTime.getTime(), r.closeTime!.getTime()]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    // Each run's table sync carries the date it was backfilled for.
    const summary: RunSummary = await client.workflow.getHandle('bqsync-itbackfill-2026-11-01T00:10:00Z').result();
    expect(summary.results[0]).toMatchObject({ key: 'shop.x_bf_1', status: 'succeeded', rowsLoaded: 5 });
    expect(summary.results[0].workflowId).toBe('bqsync-itbackfill-2026-11-01T00:10:00Z.shop.x_bf_1');
  } finally {
    await client.connection.close();
  }
});

test('backfill refuses a window that ends before it starts, and a pipeline with no schedule', async () => {
  const backwards = await runCli(['--config', file, 'schedule', 'backfill', 'itbackfill', '--from', '2026-11-02T00:00:00Z', '--to', '2026-11-01T00:00:00Z']);
  expect(backwards.code).toBe(1);
  expect(backwards.stderr).toContain('--to (2026-11-01T00:00:00.000Z) must be after --from (2026-11-02T00:00:00.000Z)');
  const notIso = await runCli(['--config', file, 'schedule', 'backfill', 'itbackfill', '--from', 'yesterday', '--to', '2026-11-01T00:00:00Z']);
  expect(notIso.stderr).toContain('--from takes an ISO 8601 time');
  const none = await runCli(['--config', file, 'schedule', 'backfill', 'itnosched', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T01:00:00Z']);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain(`no schedule bqsync-itnosched: declare schedule: for pipeline itnosched in ${file} and run bqsync schedule apply`);
});
