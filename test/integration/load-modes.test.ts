import { createHmac } from 'node:crypto';
import { BIGQUERY_PROJECT, ON_EMULATOR } from '../helpers/env';
import { expectSameRowsAsMysql, expectSameRowsAsPostgres } from '../helpers/same-rows';
import {
  bigQuery,
  bqRows,
  FAST_RETRY,
  mysqlConnection,
  mysqlSource,
  postgresClient,
  postgresSource,
  runCli,
  RunningWorker,
  startWorker,
  syncAndWait,
  testConfig,
  writeConfig,
} from '../helpers/harness';

/**
 * Incremental modes against the real databases and the emulator: every run ends with the
 * destination compared to the source row by row, after inserts, late commits, updates,
 * soft and hard deletes, and a worker killed right after BigQuery accepted its job.
 */
const HASH_KEY = 'test-hash-key-0123456789abcdef';
const config = testConfig(
  'it-modes',
  {
    shop: mysqlSource('it_modes_shop', {
      tables: [
        { name: 'x_lm_events', mode: 'append', cursor: 'created_at', overlap: '10m' },
        { name: 'x_lm_people', columns: { exclude: ['ssn'], hash: ['email'], mask: ['phone'] } },
        'x_lm_drift',
        { name: 'x_lm_big', chunkRows: 10000 },
      ],
    }),
    billing: postgresSource('it_modes_billing', {
      tables: [{ name: 'x_lm_accounts', mode: 'merge', cursor: 'updated_at', overlap: '1m', deleteWhen: 'deleted_at' }],
    }),
  },
  { itmodes: { sources: ['shop', 'billing'], heartbeatTimeout: '10s', retry: FAST_RETRY } },
);
const file = writeConfig(config);
const WORKER_ENV = { BQSYNC_HASH_KEY: HASH_KEY };
let worker: RunningWorker | undefined;

const sync = (tables: string[], extra: string[] = []): Promise<string> => syncAndWait(file, tables, extra);

beforeAll(async () => {
  // Incremental tables continue from what BigQuery holds: start from nothing.
  for (const dataset of ['it_modes_shop', 'it_modes_billing']) {
    await bigQuery().dataset(dataset).delete({ force: true }).catch(() => undefined);
  }
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_lm_events, x_lm_people, x_lm_drift');
  await my.query('CREATE TABLE x_lm_events (id BIGINT PRIMARY KEY, created_at DATETIME(6) NOT NULL, payload VARCHAR(40))');
  await my.query(
    "INSERT INTO x_lm_events SELECT seq, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, CONCAT('event ', seq) FROM seq_1_to_1000",
  );
  await my.query("CREATE TABLE x_lm_people (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80), phone VARCHAR(20), ssn CHAR(11)) COMMENT 'People who ordered'");
  await my.query(
    "INSERT INTO x_lm_people SELECT seq, CONCAT('Person ', seq), CONCAT('p', seq, '@example.com'), CONCAT('+81-90-0000-', LPAD(seq, 4, '0')), CONCAT('123-45-', LPAD(seq, 4, '0')) FROM seq_1_to_50",
  );
  await my.query('DROP TABLE IF EXISTS x_lm_big');
  await my.query('CREATE TABLE x_lm_big (id BIGINT PRIMARY KEY, v VARCHAR(20))');
  await my.query("INSERT INTO x_lm_big SELECT seq * 3, CONCAT('v', seq) FROM seq_1_to_60000");
  await my.query('ANALYZE TABLE x_lm_big');
  await my.query('CREATE TABLE x_lm_drift (id INT PRIMARY KEY, a INT, b VARCHAR(10))');
  await my.query("INSERT INTO x_lm_drift SELECT seq, seq * 10, CONCAT('b', seq) FROM seq_1_to_20");
  await my.end();

  const pg = await postgresClient();
  await pg.query('DROP TABLE IF EXISTS x_lm_accounts');
  await pg.query('CREATE TABLE x_lm_accounts (id int PRIMARY KEY, balance numeric(12,2), updated_at timestamptz(6) NOT NULL, deleted_at timestamptz)');
  await pg.query("INSERT INTO x_lm_accounts SELECT s, s * 1.5, timestamptz '2024-01-01 00:00:00+00' + s * interval '1 second', NULL FROM generate_series(1, 300) s");
  await pg.end();
  worker = await startWorker(file, WORKER_ENV);
});

afterAll(async () => {
  await worker?.stop();
});

const EVENT_COLUMNS = ['id', 'created_at', 'payload'];
const ACCOUNT_COLUMNS = ['id', 'balance', 'updated_at'];

test('append: the first run loads every row, the next only new ones and late commits, never twice', async () => {
  await sync(['shop.x_lm_events']);
  expect(await expectSameRowsAsMysql('x_lm_events', 'it_modes_shop', EVENT_COLUMNS)).toBe(1000);

  const my = await mysqlConnection();
  // 500 new events, and one that committed late with a time 5 minutes before the newest.
  await my.query("INSERT INTO x_lm_events SELECT seq, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND, CONCAT('event ', seq) FROM seq_1001_to_1500");
  // An event stamped before the newest one loaded, committed only now.
  await my.query("INSERT INTO x_lm_events VALUES (2000, TIMESTAMP('2024-01-01') + INTERVAL 1000 SECOND - INTERVAL 3 MINUTE, 'late commit')");
  await my.end();
  // The overlap re-read the ten minutes before the newest loaded row.
  expect(await sync(['shop.x_lm_events'])).toMatch(/shop\.x_lm_events\s+succeeded.*append from 2024-01-01 00:06:40\.000/);
  expect(await expectSameRowsAsMysql('x_lm_events', 'it_modes_shop', EVENT_COLUMNS)).toBe(1501);

  // Nothing new: the overlap reads rows again, the merge keeps one copy of each.
  await sync(['shop.x_lm_events']);
  expect(await expectSameRowsAsMysql('x_lm_events', 'it_modes_shop', EVENT_COLUMNS)).toBe(1501);
});

test('merge: updated rows change, new rows arrive, soft-deleted rows leave; --full-refresh also drops hard deletes', async () => {
  await sync(['billing.x_lm_accounts']);
  expect(await expectSameRowsAsPostgres('x_lm_accounts', 'it_modes_billing', ACCOUNT_COLUMNS)).toBe(300);

  const pg = await postgresClient();
  const later = "timestamptz '2024-02-01 00:00:00+00'";
  await pg.query(`UPDATE x_lm_accounts SET balance = balance + 1000, updated_at = ${later} WHERE id <= 20`);
  await pg.query(`INSERT INTO x_lm_accounts SELECT s, s, ${later}, NULL FROM generate_series(301, 310) s`);
  await pg.query(`UPDATE x_lm_accounts SET deleted_at = ${later}, updated_at = ${later} WHERE id BETWEEN 21 AND 25`);
  await pg.end();
  await sync(['billing.x_lm_accounts']);
  expect(await expectSameRowsAsPostgres('x_lm_accounts', 'it_modes_billing', ACCOUNT_COLUMNS, { where: 'deleted_at IS NULL' })).toBe(305);

  // A hard delete leaves no trace an incremental read can see; a full refresh rebuilds.
  const pg2 = await postgresClient();
  await pg2.query('DELETE FROM x_lm_accounts WHERE id BETWEEN 100 AND 109 OR deleted_at IS NOT NULL');
  await pg2.end();
  expect(await sync(['billing.x_lm_accounts'], ['--full-refresh'])).toMatch(/billing\.x_lm_accounts\s+succeeded\s+295\s+295/);
  expect(await expectSameRowsAsPostgres('x_lm_accounts', 'it_modes_billing', ACCOUNT_COLUMNS)).toBe(295);
});

test('a worker killed right after BigQuery accepted the MERGE: the retry reuses that job, no row twice', async () => {
  await worker!.stop();
  const pg = await postgresClient();
  await pg.query("UPDATE x_lm_accounts SET balance = balance + 1, updated_at = timestamptz '2024-03-01 00:00:00+00' WHERE id <= 50");
  await pg.query("INSERT INTO x_lm_accounts SELECT s, s, timestamptz '2024-03-01 00:00:00+00', NULL FROM generate_series(400, 449) s");
  await pg.end();
  // Read: 45 updated (21-25 are gone), 50 new, and 10 rows of the overlap window (301-310).
  const doomed = await startWorker(file, { ...WORKER_ENV, BQSYNC_CRASH_AT: 'merge-submitted' });
  const run = runCli(['--config', file, 'sync', 'billing.x_lm_accounts', '--wait']);
  const died = await new Promise<NodeJS.Signals | null>((resolve) => doomed.process.on('exit', (_code, signal) => resolve(signal)));
  expect(died).toBe('SIGKILL');
  worker = await startWorker(file, WORKER_ENV);
  const res = await run;
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/billing\.x_lm_accounts\s+succeeded.*load of an earlier attempt reused: bqsync_\S+_merge2_105r/);
  expect(await expectSameRowsAsPostgres('x_lm_accounts', 'it_modes_billing', ACCOUNT_COLUMNS)).toBe(345);
});

test('a worker killed right after BigQuery accepted a replacing load: the retry verifies it instead of loading again', async () => {
  await worker!.stop();
  const doomed = await startWorker(file, { ...WORKER_ENV, BQSYNC_CRASH_AT: 'load-submitted' });
  const run = runCli(['--config', file, 'sync', 'shop.x_lm_drift', '--wait']);
  expect(await new Promise((resolve) => doomed.process.on('exit', (_c, signal) => resolve(signal)))).toBe('SIGKILL');
  worker = await startWorker(file, WORKER_ENV);
  const res = await run;
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/shop\.x_lm_drift\s+succeeded\s+20\s+20.*load of an earlier attempt reused: bqsync_\S+_load1_20r/);
  expect(await expectSameRowsAsMysql('x_lm_drift', 'it_modes_shop', ['id', 'a', 'b'])).toBe(20);
});

test('schema drift: a dropped column is kept as NULL and reported, a type BigQuery cannot widen fails with what to do', async () => {
  const my = await mysqlConnection();
  await my.query('ALTER TABLE x_lm_drift DROP COLUMN b, ADD COLUMN c DATE');
  await my.query("UPDATE x_lm_drift SET c = '2024-05-01'");
  await my.end();
  expect(await sync(['shop.x_lm_drift'])).toMatch(/shop\.x_lm_drift\s+succeeded.*new columns: c; dropped at the source, kept as NULL: b/);
  const rows = await bqRows(`SELECT id, a, b FROM \`${BIGQUERY_PROJECT}.it_modes_shop.x_lm_drift\` ORDER BY id`);
  expect(rows).toHaveLength(20);
  expect(rows.every((r) => r.b === null)).toBe(true);
  // BigQuery adds c to the table; the emulator keeps a table's first schema (README: emulator gaps).
  const [meta] = await bigQuery().dataset('it_modes_shop').table('x_lm_drift').getMetadata();
  const names = (meta.schema.fields as { name: string }[]).map((f) => f.name);
  expect(names).toEqual(ON_EMULATOR ? ['id', 'a', 'b'] : ['id', 'a', 'c', 'b']);

  const my2 = await mysqlConnection();
  await my2.query('ALTER TABLE x_lm_drift MODIFY a VARCHAR(10)');
  await my2.end();
  const bad = await runCli(['--config', file, 'sync', 'shop.x_lm_drift', '--wait']);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toContain(
    'SchemaDrift: shop.x_lm_drift: column a changed from INT64 to STRING at the source, which BigQuery cannot widen in place. ' +
      'Run "bqsync sync shop.x_lm_drift --full-refresh" to rebuild it_modes_shop.x_lm_drift with the new type',
  );
});

test('column rules: excluded columns never leave the source, hashed ones are keyed hashes, masked ones keep four characters', async () => {
  await sync(['shop.x_lm_people']);
  const [meta] = await bigQuery().dataset('it_modes_shop').table('x_lm_people').getMetadata();
  expect((meta.schema.fields as { name: string }[]).map((f) => f.name)).toEqual(['id', 'name', 'email', 'phone']);
  expect(meta.description).toBe('People who ordered');
  const rows = await bqRows(`SELECT id, name, email, phone FROM \`${BIGQUERY_PROJECT}.it_modes_shop.x_lm_people\` ORDER BY id`);
  expect(rows).toHaveLength(50);
  expect(rows[6]).toEqual({
    id: expect.anything(),
    name: 'Person 7',
    email: createHmac('sha256', HASH_KEY).update('p7@example.com').digest('hex'),
    phone: `${'*'.repeat(12)}0007`,
  });
  expect(JSON.stringify(rows)).not.toContain('@example.com');
});

test('a column rule that names no column, or partitioning by a text column, fails the table before any row is read', async () => {
  await worker!.stop();
  const broken = writeConfig(
    testConfig(
      'it-modes',
      {
        shop: mysqlSource('it_modes_shop', {
          tables: [
            { name: 'x_lm_people', columns: { exclude: ['social_security'] } },
            { name: 'x_lm_events', partitionBy: { column: 'payload' } },
          ],
        }),
      },
      { itmodes: { sources: ['shop'], heartbeatTimeout: '10s', retry: FAST_RETRY } },
    ),
  );
  worker = await startWorker(broken, WORKER_ENV);
  const res = await runCli(['--config', broken, 'sync', 'shop.x_lm_people', 'shop.x_lm_events', '--wait']);
  await worker!.stop();
  worker = await startWorker(file, WORKER_ENV);
  expect(res.code).toBe(1);
  expect(res.stdout).toContain('ConfigError: shop.x_lm_people: the column rules name "social_security", which the table does not have');
  expect(res.stdout).toContain(
    'ConfigError: shop.x_lm_events: time partitioning needs a DATE, DATETIME or TIMESTAMP column; "payload" is STRING',
  );
});

test('a large table read in key ranges: a worker killed after the first range landed resumes at the second', async () => {
  await worker!.stop();
  const doomed = await startWorker(file, { ...WORKER_ENV, BQSYNC_CRASH_AT: 'chunk-submitted' });
  const run = runCli(['--config', file, 'sync', 'shop.x_lm_big', '--wait']);
  expect(await new Promise((resolve) => doomed.process.on('exit', (_c, signal) => resolve(signal)))).toBe('SIGKILL');
  worker = await startWorker(file, WORKER_ENV);
  const res = await run;
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/shop\.x_lm_big\s+succeeded\s+60,000\s+60,000.*read in \d+ key ranges, 1 landed by an earlier attempt/);
  const [dst] = await bqRows(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(id) AS s FROM \`${BIGQUERY_PROJECT}.it_modes_shop.x_lm_big\``);
  expect([String(dst.n), String(dst.d), String(dst.s)]).toEqual(['60000', '60000', String(3 * (60000 * 60001) / 2)]);
  expect(await expectSameRowsAsMysql('x_lm_big', 'it_modes_shop', ['id', 'v'])).toBe(60000);
  // The staging table is gone once the destination has the rows.
  const [tables] = await bigQuery().dataset('it_modes_shop').getTables();
  expect(tables.map((t) => t.id).filter((id) => id!.startsWith('_bqsync_stage_'))).toEqual([]);
});
