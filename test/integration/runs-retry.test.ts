import { TEMPORAL_UI_URL } from '../helpers/env';
import { bqCount, eventually, mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables, lockTables } from '../helpers/source-tables';
import { nightlySync } from '../../workflows';
import type { RunSummary } from '../../common/payloads';

// x_rr_late does not exist at first: the run fails on it, then it is created and retried.
const config = testConfig(
  'it-runs',
  { shop: mysqlSource('it_rr_shop', { tables: ['x_rr_ok', 'x_rr_late', { name: 'x_rr_after', after: ['shop.x_rr_late'] }] }) },
  { itruns: { sources: ['shop'] }, itchain: { sources: ['shop'] } },
);

interface RunJson {
  pipeline: string;
  workflowId: string;
  runId: string;
  status: string;
  startedAt: string;
  durationMs: number;
  succeeded: number;
  failed: number;
  skipped: number;
  failedKeys: string[];
  link: string;
}

let worker: RunningWorker;
let file: string;
let failedRun: RunJson;
// Runs of earlier test sessions on a kept stack (BQSYNC_KEEP_STACK=1) are not this one's.
const since = Date.now();
const mine = (stdout: string) => (JSON.parse(stdout) as RunJson[]).filter((r) => Date.parse(r.startedAt) >= since);

beforeAll(async () => {
  await createSmallTables(['x_rr_ok', 'x_rr_after'], 12);
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_rr_late');
  await my.end();
  file = writeConfig(config);
  worker = await startWorker(file);
  const run = await runCli(['--config', file, 'run', 'itruns', '--wait']);
  expect(run.code).toBe(1);
});

afterAll(async () => {
  await worker?.stop();
});

test('runs lists the failed run with its counts, duration and link', async () => {
  const res = await runCli(['--config', file, 'runs', 'itruns', '--json']);
  expect(res.code).toBe(0);
  const runs = mine(res.stdout);
  expect(runs).toHaveLength(1);
  failedRun = runs[0];
  expect(failedRun).toMatchObject({ pipeline: 'itruns', workflowId: 'bqsync-itruns', status: 'failed', succeeded: 1, failed: 1, skipped: 1 });
  expect(failedRun.failedKeys).toEqual(['shop.x_rr_late']);
  expect(failedRun.durationMs).toBeGreaterThan(0);
  expect(failedRun.link).toBe(`${TEMPORAL_UI_URL}/namespaces/default/workflows/bqsync-itruns/${failedRun.runId}/history`);

  const text = await runCli(['--config', file, 'runs', 'itruns']);
  expect(text.stdout).toMatch(/STARTED\s+PIPELINE\s+STATUS\s+DURATION\s+SUCCEEDED\s+FAILED\s+SKIPPED\s+RUN/);
  expect(text.stdout).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+itruns\s+failed\s+\d+\.\ds\s+1\s+1\s+1\s+http/);
});

test('table syncs have readable IDs with the run date and carry their load mode', async () => {
  const client = await temporalClient();
  try {
    const summary = (await client.workflow.getHandle('bqsync-itruns', failedRun.runId).query('status')) as RunSummary;
    const ok = summary.results.find((r) => r.key === 'shop.x_rr_ok')!;
    const date = failedRun.startedAt.slice(0, 10);
    expect(ok.workflowId).toMatch(new RegExp(`^bqsync-itruns\\.${date}T\\d\\d:\\d\\d:\\d\\dZ\\.shop\\.x_rr_ok$`));
    const found: string[] = [];
    for await (const wf of client.workflow.list({ query: `BqsyncPipeline = 'itruns' AND BqsyncMode = 'replace' AND StartTime >= '${new Date(since).toISOString()}'` })) found.push(wf.workflowId);
    expect(found.sort()).toEqual(
      summary.results
        .filter((r) => r.workflowId)
        .map((r) => r.workflowId!)
        .sort(),
    );
  } finally {
    await client.connection.close();
  }
});

test('retry --failed re-runs only the failed table, once fixed, and shows its progress', async () => {
  await createSmallTables(['x_rr_late'], 7);
  const res = await runCli(['--config', file, 'retry', 'bqsync-itruns', failedRun.runId, '--failed', '--wait']);
  expect(res.stderr).toBe('');
  expect(res.stdout).toContain(`retrying 1 failed table(s) of bqsync-itruns (run ${failedRun.runId}): shop.x_rr_late`);
  expect(res.stdout).toContain('shop.x_rr_late: queued');
  // Not a TTY here: plain progress lines, then the summary.
  expect(res.stdout).toMatch(/shop\.x_rr_late succeeded: 7 rows, [\d,]+ rows\/s/);
  expect(res.stdout).toMatch(/shop\.x_rr_late\s+succeeded\s+7\s+7/);
  expect(res.code).toBe(0);
  expect(await bqCount('it_rr_shop', 'x_rr_late')).toBe(7);

  const runs = mine((await runCli(['--config', file, 'runs', 'itruns', '--json'])).stdout);
  expect(runs.map((r) => [r.status, r.succeeded, r.failed, r.skipped])).toEqual([
    ['succeeded', 1, 0, 0],
    ['failed', 1, 1, 1],
  ]);
});

test('retry last --failed on a run with no failures says so; --json answers for scripts', async () => {
  const res = await runCli(['--config', file, 'retry', 'last', '--pipeline', 'itruns', '--failed', '--json']);
  expect(res.code).toBe(0);
  expect(JSON.parse(res.stdout)).toMatchObject({ run: 'bqsync-itruns', retried: [] });

  const bad = await runCli(['--config', file, 'retry', 'bqsync-nope', '--failed']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('no run bqsync-nope');
});

test('sync --wait --json gives the outcome and each table\'s result', async () => {
  const res = await runCli(['--config', file, 'sync', 'shop.x_rr_ok', '--pipeline', 'itruns', '--wait', '--json']);
  expect(res.code).toBe(0);
  const answer = JSON.parse(res.stdout);
  expect(answer.tables).toEqual([{ key: 'shop.x_rr_ok', outcome: 'queued' }]);
  expect(answer.results).toEqual([expect.objectContaining({ key: 'shop.x_rr_ok', status: 'succeeded', rowsLoaded: 12 })]);
});

test('a run that continued as new counts as one run', async () => {
  const client = await temporalClient();
  try {
    // Hand over after every finished table: three executions for three tables.
    const handle = await client.workflow.start(nightlySync, {
      workflowId: 'bqsync-itchain',
      taskQueue: 'it-runs',
      args: [{ pipeline: 'itchain', tables: ['shop.x_rr_ok', 'shop.x_rr_late', 'shop.x_rr_after'], continueAsNewAfter: 1 }],
      typedSearchAttributes: [{ key: (await import('../../common/search-attributes')).searchAttributes.pipeline, value: 'itchain' }],
    });
    const summary = await handle.result();
    expect(summary.succeeded).toBe(3);
    let executions = 0;
    for await (const _wf of client.workflow.list({ query: `WorkflowId = 'bqsync-itchain' AND StartTime >= '${new Date(since).toISOString()}'` })) executions++;
    expect(executions).toBeGreaterThan(1);
  } finally {
    await client.connection.close();
  }
  const runs = mine((await runCli(['--config', file, 'runs', 'itchain', '--json'])).stdout);
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({ status: 'succeeded', succeeded: 3, failed: 0, skipped: 0 });
});

test('sync --wait stops waiting when the run is terminated from outside, and says so', async () => {
  const unlock = await lockTables(['x_rr_ok'], { mysql: true });
  const client = await temporalClient();
  try {
    const waiting = runCli(['--config', file, 'sync', 'shop.x_rr_ok', '--pipeline', 'itruns', '--wait']);
    // The extraction is blocked by the lock: the table stays running.
    await eventually(
      async () => {
        const s = (await client.workflow.getHandle('bqsync-itruns').query('status').catch(() => undefined)) as RunSummary | undefined;
        return s?.results.find((r) => r.key === 'shop.x_rr_ok')?.status === 'running';
      },
      60_000,
      'shop.x_rr_ok running',
    );
    await client.workflow.getHandle('bqsync-itruns').terminate('maintenance');
    const res = await waiting;
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('the run ended terminated before the table finished: shop.x_rr_ok');
  } finally {
    await unlock();
    await client.connection.close();
  }
});
