/**
 * Staging tables of incremental syncs: each gets an expiry when it is made, and none is left
 * behind, whether the sync succeeds, resumes from an earlier attempt's staged rows, or fails
 * its row-count verification. The worker is killed for real right after BigQuery accepted
 * the staging load; the next worker's attempt goes on from there.
 */
import { BIGQUERY_PROJECT } from '../helpers/env';
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import {
  bigQuery,
  bqCount,
  eventually,
  FAST_RETRY,
  mysqlConnection,
  mysqlSource,
  runCli,
  RunningWorker,
  startWorker,
  testConfig,
  writeConfig,
} from '../helpers/harness';

const DATASET = 'it_staging';
const TABLE = 'x_st_events';
const COLUMNS = ['id', 'created_at', 'payload'];
const file = writeConfig(
  testConfig(
    'it-staging',
    { shop: mysqlSource(DATASET, { tables: [{ name: TABLE, mode: 'append', cursor: 'created_at', overlap: '10m' }] }) },
    { itstaging: { sources: ['shop'], heartbeatTimeout: '5s', retry: FAST_RETRY } },
  ),
);
let worker: RunningWorker | undefined;

beforeAll(async () => {
  await bigQuery().dataset(DATASET).delete({ force: true }).catch(() => undefined);
  const my = await mysqlConnection();
  try {
    await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await my.query(`CREATE TABLE ${TABLE} (id BIGINT PRIMARY KEY, created_at DATETIME(6) NOT NULL, payload VARCHAR(40))`);
    await my.query(`INSERT INTO ${TABLE} SELECT seq, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, CONCAT('event ', seq) FROM seq_1_to_1000`);
  } finally {
    await my.end();
  }
  worker = await startWorker(file);
  const first = await runCli(['--config', file, 'sync', `shop.${TABLE}`, '--wait']);
  if (first.code !== 0) throw new Error(`the first load failed:\n${first.stdout}\n${first.stderr}`);
});

afterAll(async () => {
  await worker?.stop();
});

/** The `_bqsync_stage_*` tables in the dataset now. */
async function stagingTables(): Promise<string[]> {
  const [tables] = await bigQuery().dataset(DATASET).getTables();
  return tables.map((t) => t.id!).filter((id) => id.startsWith('_bqsync_stage_'));
}

/** New rows at the source, then a worker killed right after BigQuery accepted their staging load. */
async function stageThenKill(from: number): Promise<{ run: ReturnType<typeof runCli>; staging: string }> {
  await worker!.stop();
  const my = await mysqlConnection();
  await my.query(`INSERT INTO ${TABLE} SELECT seq, TIMESTAMP('2024-02-01') + INTERVAL seq SECOND, CONCAT('late ', seq) FROM seq_${from}_to_${from + 99}`);
  await my.end();
  const doomed = await startWorker(file, { BQSYNC_CRASH_AT: 'stage-submitted' });
  const run = runCli(['--config', file, 'sync', `shop.${TABLE}`, '--wait']);
  expect(await new Promise((resolve) => doomed.process.on('exit', (_c, signal) => resolve(signal)))).toBe('SIGKILL');
  // The staging load goes on in BigQuery without the worker.
  const staging = await eventually(async () => (await stagingTables())[0], 60_000, 'the staging table');
  await eventually(async () => (await bqCount(DATASET, staging).catch(() => 0)) > 0, 60_000, 'the staged rows');
  return { run, staging };
}

describe('leftover staging tables', () => {
  test('a staging table expires by itself, and the sync that resumes from it drops it', async () => {
    const { run, staging } = await stageThenKill(5001);
    const [meta] = await bigQuery().dataset(DATASET).table(staging).getMetadata();
    const expiresInHours = (Number(meta.expirationTime) - Date.now()) / 3_600_000;
    console.log(`staging table ${staging}: expirationTime ${meta.expirationTime} (in ${expiresInHours.toFixed(1)} h)`);
    // The sync finishes before anything is asserted, so that the next test starts from a finished run.
    worker = await startWorker(file);
    const res = await run;
    expect(expiresInHours).toBeGreaterThan(23);
    expect(expiresInHours).toBeLessThanOrEqual(24);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`shop\\.${TABLE}\\s+succeeded.*load of an earlier attempt reused: bqsync_\\S+_stage\\d+_\\d+r`));
    expect(await stagingTables()).toEqual([]);
    expect(await expectSameRowsAsMysql(TABLE, DATASET, COLUMNS)).toBe(1100);
  });

  test('a sync that fails its row-count verification drops its staging table too', async () => {
    const { run, staging } = await stageThenKill(6001);
    // A row that the sync did not read lands in the staging table: the verification must catch it.
    await bigQuery().query({ query: `INSERT INTO \`${BIGQUERY_PROJECT}.${DATASET}.${staging}\` (id, created_at, payload) VALUES (999999, DATETIME '2024-03-01 00:00:00', 'stray')` });
    worker = await startWorker(file);
    const res = await run;
    console.log(res.stdout.split('\n').find((l) => l.includes(TABLE)));
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`read 200 rows from the source but ${DATASET}\\.${staging} holds 201`));
    expect(await stagingTables()).toEqual([]);
    // The destination was left as it was: the rows of the previous sync, none of the new ones.
    expect(await expectSameRowsAsMysql(TABLE, DATASET, COLUMNS, { where: 'id < 6001' })).toBe(1100);
  });
});
