import { mysqlSource, postgresSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables } from '../helpers/source-tables';
import { dagLevels } from '../../client/dag-levels';

const config = testConfig(
  'it-inventory',
  {
    shop: mysqlSource('it_inv_shop', {
      owner: 'shop-team@example.com',
      discover: { include: ['x_inv_*'], exclude: ['x_inv_skip*', 'x_inv_c'] },
      tables: [{ name: 'x_inv_b', description: 'Orders of the day', impact: 'Revenue mart goes stale', after: ['shop.x_inv_a'] }],
    }),
    billing: postgresSource('it_inv_billing', { tables: ['x_inv_c'] }),
    // Unreachable from here: its URL variable is not set.
    legacy: mysqlSource('it_inv_legacy', { url: '${TEST_INV_UNSET_URL}', discover: { include: ['*'] }, tables: ['old_orders'] }),
  },
  {
    itinv: {
      description: 'Morning reports',
      owner: 'data-platform@example.com',
      impact: 'Dashboards show yesterday',
      schedule: { cron: '0 2 * * *', timezone: 'Asia/Tokyo' },
      sources: ['shop', 'billing'],
      concurrency: 3,
      steps: [{ name: 'mart', after: ['shop.x_inv_b', 'billing.x_inv_c'], sql: 'SELECT 1' }],
    },
    itlegacy: { sources: ['legacy'] },
  },
);

let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  await createSmallTables(['x_inv_a', 'x_inv_b', 'x_inv_c', 'x_inv_skip_me'], 3);
  file = writeConfig(config);
  worker = await startWorker(file);
});

afterAll(async () => {
  await worker?.stop();
});

test('plan shows the discovered tables, their modes, the DAG levels and the limits, and runs nothing', async () => {
  const runsBefore = JSON.parse((await runCli(['--config', file, 'runs', 'itinv', '--json'])).stdout);
  const res = await runCli(['--config', file, 'plan', 'itinv', '--json']);
  expect(res.stderr).toBe('');
  const plan = JSON.parse(res.stdout);
  expect(plan.tables.map((t: { key: string; mode: string }) => [t.key, t.mode])).toEqual([
    ['shop.x_inv_a', 'replace'],
    ['shop.x_inv_b', 'replace'],
    ['billing.x_inv_c', 'replace'],
  ]);
  expect(plan.levels).toEqual([['billing.x_inv_c', 'shop.x_inv_a'], ['shop.x_inv_b'], ['mart']]);
  expect(plan.limits).toEqual({ perRun: 3, perSource: { shop: 4, billing: 4 } });
  expect(plan.tables[0].destination).toBe('bqsync-test.it_inv_shop.x_inv_a');

  const text = await runCli(['--config', file, 'plan', 'itinv']);
  expect(text.stdout).toContain('pipeline itinv: 3 tables, 1 SQL steps; at most 3 tables at once, per source: shop 4, billing 4');
  expect(text.stdout).toMatch(/level 1 .*\n {2}shop\.x_inv_b {2}replace -> bqsync-test\.it_inv_shop\.x_inv_b {2}after shop\.x_inv_a/);

  const runs = JSON.parse((await runCli(['--config', file, 'runs', 'itinv', '--json'])).stdout);
  expect(runs).toEqual(runsBefore);
});

test('plan of a pipeline whose source cannot be reached says which variable is missing', async () => {
  const res = await runCli(['--config', file, 'plan', 'itlegacy']);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('TEST_INV_UNSET_URL');
});

test('inventory lists every pipeline and table with schedule, owner, purpose, impact and last outcome', async () => {
  expect((await runCli(['--config', file, 'run', 'itinv', '--wait'])).code).toBe(0);
  const res = await runCli(['--config', file, 'inventory', '--json']);
  expect(res.stderr).toBe('');
  const inventory = JSON.parse(res.stdout);
  const inv = inventory.find((p: { pipeline: string }) => p.pipeline === 'itinv');
  expect(inv).toMatchObject({
    schedule: 'cron "0 2 * * *" in Asia/Tokyo, overlap skip, catch-up 1h',
    owner: 'data-platform@example.com',
    purpose: 'Morning reports',
    impact: 'Dashboards show yesterday',
    lastOutcome: 'succeeded',
  });
  expect(inv.tables.map((t: { key: string }) => t.key)).toEqual(['billing.x_inv_c', 'shop.x_inv_a', 'shop.x_inv_b']);
  const b = inv.tables.find((t: { key: string }) => t.key === 'shop.x_inv_b');
  expect(b).toMatchObject({ mode: 'replace', owner: 'shop-team@example.com', purpose: 'Orders of the day', impact: 'Revenue mart goes stale', lastOutcome: 'succeeded' });
  expect(Date.parse(b.lastRun)).toBeGreaterThan(Date.now() - 600_000);

  const legacy = inventory.find((p: { pipeline: string }) => p.pipeline === 'itlegacy');
  expect(legacy.tables).toEqual([{ key: 'legacy.old_orders', mode: 'replace' }]);
  expect(legacy.discoveryError).toContain('TEST_INV_UNSET_URL');

  const md = await runCli(['--config', file, 'inventory', '--markdown']);
  expect(md.stdout).toContain('## Pipeline `itinv`');
  expect(md.stdout).toContain('| Table | Mode | Owner | Purpose | Impact when stopped | Last run | Last outcome |');
  expect(md.stdout).toMatch(/\| shop\.x_inv_b \| replace \| shop-team@example\.com \| Orders of the day \| Revenue mart goes stale \| \d{4}-[^|]+ \| succeeded \|/);
  expect(md.stdout).toContain('| legacy.old_orders | replace |  |  |  | never |  |');
});

test('dag levels: independent nodes first, dependents after, outside nodes ignored, cycles reported', () => {
  expect(dagLevels([{ key: 'a', after: [] }, { key: 'b', after: ['a', 'elsewhere'] }, { key: 'c', after: ['b'] }]).levels).toEqual([['a'], ['b'], ['c']]);
  expect(dagLevels([{ key: 'x', after: ['y'] }, { key: 'y', after: ['x'] }, { key: 'z', after: [] }])).toEqual({ levels: [['z']], cyclic: ['x', 'y'] });
});
