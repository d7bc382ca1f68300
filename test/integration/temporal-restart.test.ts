/**
 * The Temporal server killed with SIGKILL in the middle of a run, and started again a few
 * seconds later on the same SQLite file (its state kept), as a self-hosted server that
 * crashes and is restarted by its supervisor. The test runs its own dev server for this,
 * since the shared test server keeps its state in memory. It proves that the worker and
 * the waiting `bqsync run --wait` reconnect by themselves, that the run goes on from its
 * history (the same run, not a new one) and ends succeeded, and that every table holds
 * exactly the source's rows.
 */
import { Client, Connection } from '@temporalio/client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import { bigQuery, CliResult, eventually, mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { TemporalDevServer } from '../helpers/temporal-dev-server';

const TABLES = ['x_tr_1', 'x_tr_2', 'x_tr_3', 'x_tr_4', 'x_tr_5'];
const ROWS = 40_000;
const DATASET = 'it_temporal_restart';
const PIPELINE = 'tr';
const DOWN_SECONDS = 25;

let dir: string;
let server: TemporalDevServer;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  // A destination left by an earlier session may have other columns: start from nothing.
  await bigQuery().dataset(DATASET).delete({ force: true }).catch(() => undefined);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-temporal-restart-'));
  server = await TemporalDevServer.create(path.join(dir, 'temporal.db'));
  await server.start();
  const my = await mysqlConnection();
  try {
    for (const t of TABLES) {
      await my.query(`DROP TABLE IF EXISTS \`${t}\``);
      await my.query(`CREATE TABLE \`${t}\` (id INT PRIMARY KEY, label VARCHAR(30), amount DECIMAL(12,2), happened_at DATETIME)`);
      await my.query(
        `INSERT INTO \`${t}\` SELECT seq, CONCAT('row ', seq), seq / 100, TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_1_to_${ROWS}`,
      );
    }
  } finally {
    await my.end();
  }
});

afterAll(async () => {
  await worker?.stop('SIGKILL');
  await server?.stop('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: 'default' }));
  } finally {
    await connection.close();
  }
}

/** The status of each table of the run, from the run's own status query. */
async function tableStatuses(): Promise<string[]> {
  return withClient(async (client) => {
    const summary = await client.workflow.getHandle(`bqsync-${PIPELINE}`).query<{ results: { status: string }[] }>('status');
    return summary.results.map((n) => n.status);
  });
}

async function tablesDone(): Promise<number> {
  return (await tableStatuses()).filter((s) => s === 'succeeded' || s === 'failed').length;
}

test('SIGKILL of the Temporal server mid-run, restarted on its SQLite file: the same run ends succeeded with exact rows', async () => {
  const base = testConfig('it-temporal-restart', { shop: mysqlSource(DATASET, { tables: TABLES }) }, {
    [PIPELINE]: { sources: ['shop'], concurrency: 2, heartbeatTimeout: '30s' },
  }) as { temporal: Record<string, string> };
  const file = writeConfig({ ...base, temporal: { ...base.temporal, address: server.address, webUrl: `http://127.0.0.1:${server.uiPort}` } });
  worker = await startWorker(file);
  const run = runCli(['--config', file, 'run', PIPELINE, '--wait']);
  let ended: CliResult | undefined;
  void run.then((r) => (ended = r));

  // Killed while tables are syncing: at least one has landed, not all.
  await eventually(async () => (await tablesDone().catch(() => 0)) >= 1, 180_000, 'the first table to land');
  const before = await withClient(async (client) => {
    const d = await client.workflow.getHandle(`bqsync-${PIPELINE}`).describe();
    const statuses = await tableStatuses();
    const done = statuses.filter((s) => s === 'succeeded' || s === 'failed').length;
    return { runId: d.runId, status: d.status.name, done, syncing: statuses.filter((s) => s === 'running').length };
  });
  expect(before.status).toBe('RUNNING');
  expect(before.done).toBeLessThan(TABLES.length);
  expect(before.syncing).toBeGreaterThanOrEqual(1);
  const killedAt = Date.now();
  expect(await server.stop('SIGKILL')).toBe('SIGKILL');
  await new Promise((r) => setTimeout(r, DOWN_SECONDS * 1000));
  // Both went on waiting while the server was gone.
  if (ended) console.log(`bqsync run ended while Temporal was down (exit ${ended.code}):\n${ended.stdout}\n${ended.stderr}`);
  expect(ended).toBeUndefined();
  expect(worker.process.exitCode).toBe(null);
  await server.start();
  const restartedAt = Date.now();

  const result = await run;
  const endedAt = Date.now();
  console.log(
    `Temporal killed with ${before.done} of ${TABLES.length} tables landed and ${before.syncing} syncing; down ${((restartedAt - killedAt) / 1000).toFixed(1)} s; ` +
      `the run ended ${((endedAt - restartedAt) / 1000).toFixed(1)} s after the restart (exit ${result.code})`,
  );
  if (result.code !== 0) console.log(`${result.stdout}\n${result.stderr}\n--- worker ---\n${worker.output().slice(-5000)}`);
  expect(result.code).toBe(0);
  // The operator was told why the wait paused, and where it was waiting.
  expect(result.stderr).toContain(`lost the connection to Temporal at ${server.address}; waiting for it to come back`);
  for (const t of TABLES) expect(result.stdout).toMatch(new RegExp(`shop\\.${t}\\s+succeeded\\s+40,000\\s+40,000`));
  // The same run, carried on from the history the server kept.
  const after = await withClient(async (client) => {
    const d = await client.workflow.getHandle(`bqsync-${PIPELINE}`).describe();
    return { runId: d.runId, status: d.status.name };
  });
  expect(after).toEqual({ runId: before.runId, status: 'COMPLETED' });
  expect(worker.process.exitCode).toBe(null);
  for (const t of TABLES) expect(await expectSameRowsAsMysql(t, DATASET, ['id', 'label', 'amount', 'happened_at'])).toBe(ROWS);
});
