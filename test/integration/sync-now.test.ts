import { bqCount, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig, eventually } from '../helpers/harness';
import { createSmallTables, lockTables, runningExtractions } from '../helpers/source-tables';
import type { RunSummary } from '../../common/payloads';

const config = testConfig(
  'it-sync-now',
  { shop: mysqlSource('it_sn_shop', { concurrency: 1, discover: { include: ['x_sn_*', 'customers', 'orders'] } }) },
  { itsync: { sources: ['shop'], concurrency: 2 } },
);

let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  await createSmallTables(['x_sn_1', 'x_sn_2'], 25);
  file = writeConfig(config);
  worker = await startWorker(file);
});

afterAll(async () => {
  await worker?.stop();
});

test('with no run going, "sync" starts a run of just that table and waits for it', async () => {
  const res = await runCli(['--config', file, 'sync', 'shop.customers', '--wait']);
  expect(res.stdout).toContain('shop.customers: queued');
  expect(res.stdout).toMatch(/shop\.customers\s+succeeded\s+2,000\s+2,000/);
  expect(res.code).toBe(0);
  expect(await bqCount('it_sn_shop', 'customers')).toBe(2000);
});

test('into a busy run, "sync" adds the table once and never runs a table twice at once', async () => {
  const unlock = await lockTables(['x_sn_1', 'x_sn_2'], { mysql: true });
  let runId: string | undefined;
  try {
    const started = await runCli(['--config', file, 'sync', 'shop.x_sn_1', 'shop.x_sn_2']);
    expect(started.code).toBe(0);
    // x_sn_1 is now blocked in its extraction; x_sn_2 waits for the source's one slot.
    await eventually(async () => (await runningExtractions()).mysql === 1, 60_000, 'the blocked extraction');
    runId = /workflows\/bqsync-itsync\/([^/]+)\//.exec(started.stdout)?.[1];

    const again = await runCli(['--config', file, 'sync', 'shop.x_sn_1', 'shop.x_sn_2', 'shop.orders']);
    expect(again.stdout).toContain('shop.x_sn_1: already running in this run');
    expect(again.stdout).toContain('shop.x_sn_2: already queued in this run');
    expect(again.stdout).toContain('shop.orders: queued');
    expect(again.stdout).toContain(`/workflows/bqsync-itsync/${runId}/`);

    // Many requests at once change nothing.
    const burst = await Promise.all(Array.from({ length: 5 }, () => runCli(['--config', file, 'sync', 'shop.x_sn_2', 'shop.orders'])));
    for (const b of burst) expect(b.stdout).toMatch(/shop\.x_sn_2: already (queued|running) in this run/);

    const unknown = await runCli(['--config', file, 'sync', 'shop.nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('shop.nope: not synced: shop.nope is not a table of pipeline "itsync"');
  } finally {
    await unlock();
  }

  const client = await temporalClient();
  try {
    const summary: RunSummary = await client.workflow.getHandle('bqsync-itsync', runId).result();
    const byKey = Object.fromEntries(summary.results.map((r) => [r.key, r]));
    expect(Object.keys(byKey).sort()).toEqual(['shop.orders', 'shop.x_sn_1', 'shop.x_sn_2']);
    for (const r of summary.results) {
      expect(r.status).toBe('succeeded');
      expect(r.runs).toBe(1);
    }
  } finally {
    await client.connection.close();
  }
  expect(await bqCount('it_sn_shop', 'x_sn_1')).toBe(25);
  expect(await bqCount('it_sn_shop', 'x_sn_2')).toBe(25);
  expect(await bqCount('it_sn_shop', 'orders')).toBe(20000);
});

test('validate names the file and the key of a bad config, and run refuses to start', async () => {
  const bad = writeConfig(
    `bigquery: { project: p }\nsources:\n  shop: { type: mysql, url: "mysql://app:hunter2@db/shop", tables: [a], colour: blue }\npipelines:\n  p: { sources: [shop] }\n`,
  );
  const res = await runCli(['--config', bad, 'validate']);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(bad);
  expect(res.stderr).toContain('unknown key "sources.shop.colour"');
  const run = await runCli(['--config', bad, 'run']);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain('unknown key "sources.shop.colour"');
  expect(run.stderr + run.stdout).not.toContain('hunter2');
});
