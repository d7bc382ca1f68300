/**
 * Phases that produce nothing for a long time: an incremental scan held by a lock at the
 * source, and the upload of a staged file slowed down on its way to BigQuery. Each lasts
 * several heartbeat timeouts. The table sync must stay one attempt (it heartbeats on a
 * timer, whatever it produces), BigQuery must see the jobs of that one attempt only, and
 * the table must end with exactly the source's rows.
 */
import type { BigQuery } from '@google-cloud/bigquery';
import { TEST_STACK } from '../helpers/env';
import { freePort } from '../helpers/free-port';
import { expectSameRowsAsMysql, expectSameRowsAsPostgres } from '../helpers/same-rows';
import { TcpProxy } from '../helpers/tcp-proxy';
import {
  bigQuery,
  CliResult,
  eventually,
  mysqlConnection,
  mysqlSource,
  postgresClient,
  postgresSource,
  runCli,
  RunningWorker,
  startWorker,
  temporalClient,
  testConfig,
  writeConfig,
} from '../helpers/harness';

const DATASET = 'it_silent';
const PIPELINE = 'itsilent';
const HEARTBEAT_SECONDS = 3;
const MERGED = 'x_sp_accounts';
const UPLOADED = 'x_sp_upload';
const UPLOAD_ROWS = 40_000;
/**
 * Bytes per second from the worker to BigQuery while the upload is slowed: the ~3.4 MB file
 * takes about 11 s, over three heartbeat timeouts. The emulator cuts a request whose body
 * takes longer than 15 s to arrive (its server's read timeout), which real BigQuery does not.
 */
const SLOW_RATE = 300 * 1024;

let proxy: TcpProxy;
let file: string;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  await bigQuery().dataset(DATASET).delete({ force: true }).catch(() => undefined);
  const pg = await postgresClient();
  try {
    await pg.query(`DROP TABLE IF EXISTS ${MERGED}`);
    await pg.query(`CREATE TABLE ${MERGED} (id int PRIMARY KEY, balance numeric(12,2), updated_at timestamptz(6) NOT NULL)`);
    await pg.query(`INSERT INTO ${MERGED} SELECT s, s * 1.5, timestamptz '2024-01-01 00:00:00+00' + s * interval '1 second' FROM generate_series(1, 500) s`);
  } finally {
    await pg.end();
  }
  const my = await mysqlConnection();
  try {
    await my.query(`DROP TABLE IF EXISTS ${UPLOADED}`);
    await my.query(`CREATE TABLE ${UPLOADED} (id INT PRIMARY KEY, label VARCHAR(60), amount DECIMAL(12,2))`);
    await my.query(`INSERT INTO ${UPLOADED} SELECT seq, CONCAT('a label long enough to make the file large ', seq), seq / 100 FROM seq_1_to_${UPLOAD_ROWS}`);
  } finally {
    await my.end();
  }
  proxy = await TcpProxy.start(await freePort(), Number(TEST_STACK.BQSYNC_BIGQUERY_PORT));
  const base = testConfig(
    'it-silent',
    {
      billing: postgresSource(DATASET, { tables: [{ name: MERGED, mode: 'merge', cursor: 'updated_at', key: ['id'], overlap: '1m' }] }),
      shop: mysqlSource(DATASET, { tables: [UPLOADED] }),
    },
    { [PIPELINE]: { sources: ['billing', 'shop'], heartbeatTimeout: `${HEARTBEAT_SECONDS}s` } },
  ) as { bigquery: Record<string, string> };
  file = writeConfig({ ...base, bigquery: { ...base.bigquery, endpoint: `http://127.0.0.1:${proxy.port}` } });
  worker = await startWorker(file);
});

afterAll(async () => {
  await worker?.stop();
  await proxy?.down();
});

/** `bqsync sync <table> --wait`, as an operator runs it. */
function sync(table: string): Promise<CliResult> {
  return runCli(['--config', file, 'sync', table, '--wait']);
}

/** The table sync's workflow ID in the pipeline's latest run. */
async function tableWorkflowId(table: string): Promise<string> {
  const client = await temporalClient();
  try {
    const summary = await client.workflow.getHandle(`bqsync-${PIPELINE}`).query<{ results: { key: string; workflowId?: string }[] }>('status');
    const id = summary.results.find((r) => r.key === table)?.workflowId;
    if (!id) throw new Error(`no workflow of ${table} in the run's status`);
    return id;
  } finally {
    await client.connection.close();
  }
}

/** The attempt in which the table's syncTable activity ended (1: it was never retried). */
async function attemptsOf(workflowId: string): Promise<number> {
  const client = await temporalClient();
  try {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    return Math.max(...started.map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0));
  } finally {
    await client.connection.close();
  }
}

/** The BigQuery jobs of one table sync (their IDs start with its workflow ID), by ID. */
async function jobsOf(workflowId: string): Promise<string[]> {
  const bq: BigQuery = bigQuery();
  const slug = `bqsync_${workflowId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200)}_`;
  const [jobs] = await bq.getJobs({ autoPaginate: true });
  return jobs.map((j) => j.id!).filter((id) => id.startsWith(slug)).sort();
}

describe('silent phases and superseded attempts', () => {
  test(`a merge table whose incremental scan is held by a lock for over three heartbeat timeouts stays one attempt, exact`, async () => {
    const first = await sync(`billing.${MERGED}`);
    expect(first.code).toBe(0);
    const pg = await postgresClient();
    const lock = await postgresClient();
    try {
      await pg.query(`UPDATE ${MERGED} SET balance = balance + 1, updated_at = now() WHERE id % 50 = 0`);
      await pg.query(`INSERT INTO ${MERGED} SELECT s, s * 2, now() FROM generate_series(501, 520) s`);
      // A long transaction holds the table: the scan waits, silent, until it ends.
      await lock.query('BEGIN');
      await lock.query(`LOCK TABLE ${MERGED} IN ACCESS EXCLUSIVE MODE`);
      const running = sync(`billing.${MERGED}`);
      await eventually(
        // The sync's first read of the table (its cursor's state, then the scan) waits.
        async () => (await pg.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM %${MERGED}%'`)).rowCount! > 0,
        60_000,
        "the sync's read of the table to wait for the lock",
      );
      const heldFrom = Date.now();
      await new Promise((r) => setTimeout(r, (3 * HEARTBEAT_SECONDS + 2) * 1000));
      await lock.query('ROLLBACK');
      const heldSeconds = (Date.now() - heldFrom) / 1000;
      const result = await running;
      const workflowId = await tableWorkflowId(`billing.${MERGED}`);
      const attempts = await attemptsOf(workflowId);
      const jobs = await jobsOf(workflowId);
      console.log(`scan held ${heldSeconds.toFixed(1)} s (heartbeat timeout ${HEARTBEAT_SECONDS} s); attempts: ${attempts}; jobs: ${jobs.join(', ')}`);
      expect(result.code).toBe(0);
      expect(attempts).toBe(1);
      // One staging load and one MERGE, both of the first attempt.
      expect(jobs.map((j) => /_(a\d+_)?(stage|merge)\d+_\d+r$/.exec(j)?.slice(1).join(''))).toEqual(['a1_merge', 'a1_stage']);
      expect(await expectSameRowsAsPostgres(MERGED, DATASET, ['id', 'balance', 'updated_at'])).toBe(520);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      await Promise.all([pg.end(), lock.end()]);
    }
  });

  test('an upload slowed to take several heartbeat timeouts lands once, by one attempt, exact', async () => {
    proxy.mostSlowedBytes = 0;
    proxy.slow(SLOW_RATE);
    const startedAt = Date.now();
    let result: CliResult;
    try {
      result = await sync(`shop.${UPLOADED}`);
    } finally {
      proxy.slow(undefined);
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const workflowId = await tableWorkflowId(`shop.${UPLOADED}`);
    const attempts = await attemptsOf(workflowId);
    const jobs = await jobsOf(workflowId);
    const uploadSeconds = proxy.mostSlowedBytes / SLOW_RATE;
    console.log(
      `slowed sync took ${seconds.toFixed(1)} s, its upload at least ${uploadSeconds.toFixed(1)} s (${proxy.mostSlowedBytes} bytes; heartbeat timeout ${HEARTBEAT_SECONDS} s); ` +
        `attempts: ${attempts}; jobs: ${jobs.join(', ')}`,
    );
    if (result.code !== 0) console.log(`${result.stdout}\n${result.stderr}\n--- worker ---\n${worker!.output().slice(-4000)}`);
    expect(result.code).toBe(0);
    // The upload alone outlasted several heartbeat timeouts (its bytes, at the proxy's rate).
    expect(uploadSeconds).toBeGreaterThan(3 * HEARTBEAT_SECONDS);
    expect(attempts).toBe(1);
    expect(jobs.map((j) => /_(a\d+_)?(load)\d+_\d+r$/.exec(j)?.slice(1).join(''))).toEqual(['a1_load']);
    expect(await expectSameRowsAsMysql(UPLOADED, DATASET, ['id', 'label', 'amount'])).toBe(UPLOAD_ROWS);
  });
});
