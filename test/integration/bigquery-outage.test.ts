/**
 * BigQuery out of reach for 25 seconds in the middle of a run, then back: a TCP proxy in
 * front of the emulator stops listening (new connections are refused) and cuts the open
 * ones, as a network outage or a firewall change does. It proves that the table syncs that
 * hit the outage fail their attempt with a line that names the table and says BigQuery was
 * unreachable at the configured endpoint, that the activities' retries carry the run
 * through once BigQuery is back, and that every table holds exactly the source's rows,
 * compared row by row, with none lost or doubled.
 */
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import { bigQuery, CliResult, eventually, mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { TEST_STACK } from '../helpers/env';
import { freePort } from '../helpers/free-port';
import { TcpProxy } from '../helpers/tcp-proxy';

const TABLES = ['x_bo_1', 'x_bo_2', 'x_bo_3', 'x_bo_4'];
const ROWS = 30_000;
const DATASET = 'it_bq_outage';
const PIPELINE = 'bo';
const OUTAGE_SECONDS = 25;
/** The table of the outage that outlasts the retries; its own source, so its own pipeline. */
const LONG_TABLE = 'x_bo_long';
const LONG_ROWS = 10_000;

let proxy: TcpProxy;
let endpoint: string;
let file: string;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  // A destination left by an earlier session may have other columns: start from nothing.
  await bigQuery().dataset(DATASET).delete({ force: true }).catch(() => undefined);
  proxy = await TcpProxy.start(await freePort(), Number(TEST_STACK.BQSYNC_BIGQUERY_PORT));
  const my = await mysqlConnection();
  try {
    for (const t of [...TABLES, LONG_TABLE]) {
      await my.query(`DROP TABLE IF EXISTS \`${t}\``);
      await my.query(`CREATE TABLE \`${t}\` (id INT PRIMARY KEY, label VARCHAR(30), amount DECIMAL(12,2), happened_at DATETIME)`);
      await my.query(
        `INSERT INTO \`${t}\` SELECT seq, CONCAT('row ', seq), seq / 100, TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_1_to_${t === LONG_TABLE ? LONG_ROWS : ROWS}`,
      );
    }
  } finally {
    await my.end();
  }
  const base = testConfig(
    'it-bq-outage',
    { shop: mysqlSource(DATASET, { tables: TABLES }), late: mysqlSource(DATASET, { tables: [LONG_TABLE] }) },
    {
      [PIPELINE]: { sources: ['shop'], concurrency: 2, heartbeatTimeout: '30s' },
      // Retried 2 s, 4 s and 8 s apart: the outage outlasts them (by default 15, 30 and 60 s).
      bolong: { sources: ['late'], heartbeatTimeout: '30s', retry: { interval: '2s' } },
    },
  ) as { bigquery: Record<string, string> };
  endpoint = `http://127.0.0.1:${proxy.port}`;
  file = writeConfig({ ...base, bigquery: { ...base.bigquery, endpoint } });
  worker = await startWorker(file);
});

afterAll(async () => {
  await worker?.stop();
  await proxy?.down();
});

function started(): RunningWorker {
  if (!worker) throw new Error('the worker did not start');
  return worker;
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pipeline's latest run, or undefined before its first. */
async function latestRunId(): Promise<string | undefined> {
  const client = await temporalClient();
  try {
    return (await client.workflow.getHandle(`bqsync-${PIPELINE}`).describe()).runId;
  } catch {
    return undefined;
  } finally {
    await client.connection.close();
  }
}

/** Tables of the run that have finished, from the run's own status query (0 until the run is `runId`'s successor). */
async function tablesDone(previousRun: string | undefined): Promise<number> {
  const client = await temporalClient();
  try {
    const handle = client.workflow.getHandle(`bqsync-${PIPELINE}`);
    if ((await handle.describe()).runId === previousRun) return 0;
    const summary = await handle.query<{ results: { status: string }[] }>('status');
    return summary.results.filter((n) => n.status === 'succeeded' || n.status === 'failed').length;
  } finally {
    await client.connection.close();
  }
}

test('BigQuery unreachable for 25 s mid-run: the attempts that hit it say so, retries finish the run, exact rows', async () => {
  const worker = started();
  // A run of an earlier test session, when the stack was kept, is not this one.
  const previousRun = await latestRunId();
  const run = runCli(['--config', file, 'run', PIPELINE, '--wait']);
  let ended: CliResult | undefined;
  void run.then((r) => (ended = r));

  // Down while tables are syncing: one has landed, the others are still to load.
  await eventually(
    async () => {
      if (ended) throw new Error(`bqsync run ended before the outage (exit ${ended.code}):\n${ended.stdout}\n${ended.stderr}`);
      return (await tablesDone(previousRun).catch(() => 0)) >= 1;
    },
    180_000,
    'the first table to land',
  );
  const doneBefore = await tablesDone(previousRun);
  expect(doneBefore).toBeLessThan(TABLES.length);
  const acceptedBefore = proxy.accepted;
  const logFrom = worker.output().length;
  await proxy.down();
  const downAt = Date.now();
  await new Promise((r) => setTimeout(r, OUTAGE_SECONDS * 1000));
  // What the worker logged while BigQuery was gone.
  const duringOutage = worker.output().slice(logFrom);
  await proxy.up();
  const upAt = Date.now();

  const result = await run;
  const endAt = Date.now();
  const failedAttempts = duringOutage.match(/BigQuery was unreachable at/g)?.length ?? 0;
  console.log(
    `BigQuery down for ${((upAt - downAt) / 1000).toFixed(1)} s with ${doneBefore} of ${TABLES.length} tables landed; ` +
      `${proxy.cut} open connections cut, ${failedAttempts} attempts failed during the outage; ` +
      `the run ended ${((endAt - upAt) / 1000).toFixed(1)} s after BigQuery came back (exit ${result.code})`,
  );
  if (result.code !== 0) console.log(`${result.stdout}\n${result.stderr}\n--- worker ---\n${worker.output().slice(-5000)}`);
  else console.log(`the worker logged: ${duringOutage.match(/.*BigQuery was unreachable at.*/)?.[0]}`);
  // The outage was real: attempts failed on it, with the message an operator can act on.
  expect(duringOutage).toMatch(new RegExp(`Activity failed[\\s\\S]*shop\\.x_bo_\\d: BigQuery was unreachable at ${escaped(endpoint)} \\(`));
  expect(failedAttempts).toBeGreaterThanOrEqual(1);
  // And the worker went on using BigQuery through the proxy once it was back.
  expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
  expect(result.code).toBe(0);
  for (const t of TABLES) expect(result.stdout).toMatch(new RegExp(`shop\\.${t}\\s+succeeded\\s+30,000\\s+30,000`));
  for (const t of TABLES) expect(await expectSameRowsAsMysql(t, DATASET, ['id', 'label', 'amount', 'happened_at'])).toBe(ROWS);
});

test('BigQuery unreachable for longer than the retries last: the table fails saying so, with no stack trace; once back, it lands exactly', async () => {
  await proxy.down();
  const downAt = Date.now();
  const failed = await runCli(['--config', file, 'run', 'bolong', '--wait']);
  const failedAfter = (Date.now() - downAt) / 1000;
  const failures = await runCli(['--config', file, 'failures', '--since', '30m']);
  await proxy.up();
  const message = new RegExp(`BigQueryUnreachable: late\\.${LONG_TABLE}: BigQuery was unreachable at ${escaped(endpoint)} \\(ECONNREFUSED\\) in attempt 4\\.`);
  console.log(`BigQuery down from the start: the run failed after ${failedAfter.toFixed(1)} s\n${failed.stdout}\n${failed.stderr}\n${failures.stdout}`);
  expect(failed.code).toBe(1);
  expect(failed.stdout).toMatch(new RegExp(`late\\.${LONG_TABLE}\\s+failed\\s`));
  expect(failed.stdout).toMatch(message);
  expect(failures.code).toBe(0);
  expect(failures.stdout).toMatch(message);
  // What the operator reads is the one line, not a stack trace.
  for (const out of [failed.stdout, failed.stderr, failures.stdout]) expect(out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

  // BigQuery back: the next run lands the table, exactly.
  const again = await runCli(['--config', file, 'run', 'bolong', '--wait']);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(new RegExp(`late\\.${LONG_TABLE}\\s+succeeded\\s+10,000\\s+10,000`));
  expect(await expectSameRowsAsMysql(LONG_TABLE, DATASET, ['id', 'label', 'amount', 'happened_at'])).toBe(LONG_ROWS);
});
