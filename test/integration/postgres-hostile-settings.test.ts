/**
 * A PostgreSQL role whose own settings would corrupt or cut the read (bytea_output escape,
 * a time zone east of UTC, DateStyle SQL/DMY, extra_float_digits 0, IntervalStyle
 * sql_standard, a short statement_timeout and lock_timeout), read directly and through PgBouncer in
 * transaction pooling (Debian's pgbouncer, started by this file, one server connection per
 * user so that every client shares it).
 *
 * Proves: the values that land are exactly those a role with default settings lands, bytes
 * with NUL, backslash and 0xff included; the read's settings live only in its transaction,
 * so the pooled server connection goes back to the next client with the role's own
 * settings; a read that outlasts the role's statement_timeout, or waits for a lock past its
 * lock_timeout, is not cancelled.
 */
import { Client } from 'pg';
import { postgresDriver } from '../../sources/postgres/driver';
import { normalize } from '../helpers/compare';
import { BIGQUERY_PROJECT, ON_EMULATOR, TEST_DATABASE } from '../helpers/env';
import { bqRows, eventually, postgresClient, postgresSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { Pgbouncer, startPgbouncer } from '../helpers/postgres-servers';
import { rowDifference } from '../helpers/same-rows';

const ROLE = `${TEST_DATABASE}_hostile`;
const HOSTILE_URL = `postgres://${ROLE}@127.0.0.1:5432/${TEST_DATABASE}`;
const BIG_ROWS = 100_000;
const COLUMNS = ['id', 'c_bytea', 'c_tstz', 'c_ts', 'c_date', 'c_float8', 'c_float4', 'c_interval', 'c_numeric'];

const HOSTILE_SETTINGS = [
  "bytea_output = 'escape'",
  "TimeZone = 'Asia/Kolkata'",
  "DateStyle = 'SQL, DMY'",
  'extra_float_digits = 0',
  "IntervalStyle = 'sql_standard'",
  "statement_timeout = '500ms'",
  "idle_in_transaction_session_timeout = '500ms'",
  "lock_timeout = '200ms'",
];

let bouncer: Pgbouncer;
let worker: RunningWorker;

beforeAll(async () => {
  const pg = await postgresClient();
  try {
    await dropAll(pg);
    await pg.query(`CREATE ROLE ${ROLE} LOGIN`);
    for (const s of HOSTILE_SETTINGS) await pg.query(`ALTER ROLE ${ROLE} SET ${s}`);
    await pg.query(`CREATE TABLE x_pgh_values (id int PRIMARY KEY, c_bytea bytea, c_tstz timestamptz(6), c_ts timestamp(6), c_date date,
      c_float8 float8, c_float4 float4, c_interval interval, c_numeric numeric(20,6))`);
    await pg.query(`INSERT INTO x_pgh_values VALUES
      (1, '\\x00015c7f80ff0a27'::bytea, '2026-03-29 01:30:00.123456+00', '2026-03-29 01:30:00.123456', '2026-03-29',
          1/3::float8, 1/3::float4, '1 year 2 mons 3 days 04:05:06.789', 1234.567891),
      (2, '\\x'::bytea, '1999-12-31 23:59:59.999999+00', '0001-01-01 00:00:00', '0001-01-01',
          0.1::float8 + 0.2::float8, 0.1::float4, '-1 days', -0.000001),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
    await pg.query(`CREATE TABLE x_pgh_big AS SELECT g AS id, repeat('x', 100) AS filler FROM generate_series(1, ${BIG_ROWS}) g`);
    await pg.query(`GRANT USAGE ON SCHEMA public TO ${ROLE}`);
    await pg.query(`GRANT SELECT ON x_pgh_values, x_pgh_big TO ${ROLE}`);
  } finally {
    await pg.end();
  }
  bouncer = await startPgbouncer({ upstreamPort: 5432, database: TEST_DATABASE, users: [ROLE], poolSize: 1 });
  const file = writeConfig(
    testConfig(
      'it-pg-hostile',
      {
        plain: postgresSource('it_pgh_plain', { tables: ['x_pgh_values'] }),
        hostile: postgresSource('it_pgh_hostile', { url: '${TEST_PG_HOSTILE_URL}', tables: ['x_pgh_values'] }),
        pooled: postgresSource('it_pgh_pooled', { url: '${TEST_PG_POOLED_URL}', tables: ['x_pgh_values'] }),
      },
      { pghostile: { sources: ['plain', 'hostile', 'pooled'] } },
    ),
  );
  worker = await startWorker(file, {
    TEST_PG_HOSTILE_URL: HOSTILE_URL,
    TEST_PG_POOLED_URL: `postgres://${ROLE}@127.0.0.1:${bouncer.port}/${TEST_DATABASE}`,
  });
  const run = await runCli(['--config', file, 'run', 'pghostile', '--wait']);
  expect(run.stdout).toContain('pipeline pghostile: 3 succeeded, 0 failed, 0 skipped');
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await bouncer?.stop();
  const pg = await postgresClient();
  await dropAll(pg).finally(() => pg.end());
});

async function dropAll(pg: Client): Promise<void> {
  await pg.query('DROP TABLE IF EXISTS x_pgh_values, x_pgh_big');
  if ((await pg.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ROLE])).rowCount) {
    await pg.query(`DROP OWNED BY ${ROLE}`); // its grants
    await pg.query(`DROP ROLE ${ROLE}`);
  }
}

const landed = async (dataset: string) =>
  (await bqRows(`SELECT ${COLUMNS.join(', ')} FROM \`${BIGQUERY_PROJECT}.${dataset}.x_pgh_values\` ORDER BY id`)).map((r): Record<string, unknown> => ({ ...r, c_bytea: bytesAsBase64(r.c_bytea) }));

/** The emulator keeps a BYTES value of a JSON load as its base64 text (README: emulator gaps); BigQuery decodes it. */
function bytesAsBase64(v: unknown): unknown {
  if (!Buffer.isBuffer(v)) return v;
  return ON_EMULATOR ? v.toString('utf8') : v.toString('base64');
}

test('the hostile role, directly and through PgBouncer, lands the values a default role lands', async () => {
  const plain = await landed('it_pgh_plain');
  // The default role's values, as they must be.
  expect(plain.map((r) => COLUMNS.map((c) => normalize(r[c])))).toEqual([
    ['1', Buffer.from('00015c7f80ff0a27', 'hex').toString('base64'), '2026-03-29 01:30:00.123456', '2026-03-29 01:30:00.123456', '2026-03-29',
      '0.3333333333333333', '0.33333334', 'P1Y2M3DT4H5M6.789S', '1234.567891'],
    ['2', '', '1999-12-31 23:59:59.999999', '0001-01-01 00:00:00', '0001-01-01', '0.30000000000000004', '0.1', 'P-1D', '-0.000001'],
    ['3', null, null, null, null, null, null, null, null],
  ]);
  for (const dataset of ['it_pgh_hostile', 'it_pgh_pooled']) {
    expect(rowDifference(plain, await landed(dataset), COLUMNS, 'id')).toBeUndefined();
  }
});

test("the read's settings stay in its transaction: the pooled server connection keeps the role's own", async () => {
  // One server connection behind PgBouncer: the next client gets the one the sync used.
  const next = new Client({ connectionString: `postgres://${ROLE}@127.0.0.1:${bouncer.port}/${TEST_DATABASE}` });
  await next.connect();
  try {
    const shown = async () => {
      const settings = ['bytea_output', 'extra_float_digits', 'IntervalStyle', 'statement_timeout'];
      const rows = (await next.query(`SELECT lower(name) AS name, setting FROM pg_settings WHERE lower(name) = ANY($1) ORDER BY 1`, [settings.map((s) => s.toLowerCase())])).rows;
      return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    };
    const own = { bytea_output: 'escape', extra_float_digits: '0', intervalstyle: 'sql_standard', statement_timeout: '500' };
    expect(await shown()).toEqual(own);
    // A read by another client in between, on that same server connection, leaves them too.
    const reader = await postgresDriver.connect(`postgres://${ROLE}@127.0.0.1:${bouncer.port}/${TEST_DATABASE}`, { schema: 'public' });
    try {
      let rows = 0;
      for await (const batch of reader.streamRows('x_pgh_values', await reader.describeTable('x_pgh_values'))) rows += batch.length;
      expect(rows).toBe(3);
      expect(await reader.cursorStats('x_pgh_values', 'c_tstz', true)).toMatchObject({ max: '2026-03-29 01:30:00.123456+00', nulls: 1 });
    } finally {
      await reader.close();
    }
    expect(await shown()).toEqual(own);
  } finally {
    await next.end();
  }
});

test("a read longer than the role's statement_timeout is not cancelled", async () => {
  const reader = await postgresDriver.connect(HOSTILE_URL, { schema: 'public' });
  try {
    const batches = reader.streamRows('x_pgh_big', await reader.describeTable('x_pgh_big'))[Symbol.asyncIterator]();
    let rows = (await batches.next()).value.length;
    // The consumer stalls, as a slow upload would, past the role's 500 ms.
    const watcher = await postgresClient();
    try {
      await eventually(
        async () =>
          (
            await watcher.query(
              `SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND query LIKE '%bqsync:extract%' AND now() - query_start > interval '800 milliseconds'`,
              [ROLE],
            )
          ).rowCount,
        10_000,
        'the read to outlast the statement_timeout',
        100,
      );
    } finally {
      await watcher.end();
    }
    for (let b = await batches.next(); !b.done; b = await batches.next()) rows += b.value.length;
    expect(rows).toBe(BIG_ROWS);
  } finally {
    await reader.close();
  }
});

test("a read that waits for a lock longer than the role's lock_timeout waits on", async () => {
  const holder = await postgresClient();
  const watcher = await postgresClient();
  const reader = await postgresDriver.connect(HOSTILE_URL, { schema: 'public' });
  try {
    const columns = await reader.describeTable('x_pgh_values');
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE x_pgh_values IN ACCESS EXCLUSIVE MODE');
    const read = (async () => {
      let rows = 0;
      for await (const batch of reader.streamRows('x_pgh_values', columns)) rows += batch.length;
      return rows;
    })();
    // Past the role's 200 ms, still waiting for the lock (a migration's ALTER TABLE, say).
    await eventually(
      async () =>
        (
          await watcher.query(
            `SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock' AND now() - query_start > interval '400 milliseconds'`,
            [ROLE],
          )
        ).rowCount,
      10_000,
      'the read to wait for the lock',
      50,
    );
    await holder.query('COMMIT');
    expect(await read).toBe(3);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await Promise.all([holder.end(), watcher.end(), reader.close()]);
  }
});
