/**
 * A source connection ended from the server side while a table streams out of it:
 * MariaDB's `KILL <id>` of the extraction's connection, and PostgreSQL's
 * `pg_terminate_backend(pid)` of its backend, as an administrator, a failover or a
 * connection reaper does. It proves that the worker survives it (the drivers report it on
 * the connection, which used to crash the process), that the worker log names the table
 * and says the connection was lost, that the next attempt reads the table again, and that
 * the run ends succeeded with exactly the source's rows, compared row by row.
 */
import { Client as PgClient } from 'pg';
import { expectSameRowsAsMysql, expectSameRowsAsPostgres } from '../helpers/same-rows';
import {
  eventually,
  FAST_RETRY,
  mysqlConnection,
  mysqlSource,
  postgresClient,
  postgresSource,
  runCli,
  RunningWorker,
  startWorker,
  testConfig,
  writeConfig,
} from '../helpers/harness';
import { POSTGRES_URL, TEST_DATABASE } from '../helpers/env';

const ROWS = 400_000;
const TABLE = 'x_sck_events';
const COLUMNS = ['id', 'user_id', 'kind', 'amount', 'note'];
const config = testConfig(
  'it-source-killed',
  { shop: mysqlSource('it_sck_shop', { tables: [TABLE] }), bill: postgresSource('it_sck_bill', { tables: [TABLE] }) },
  { sckmy: { sources: ['shop'], heartbeatTimeout: '30s', retry: FAST_RETRY }, sckpg: { sources: ['bill'], heartbeatTimeout: '30s', retry: FAST_RETRY } },
);
const file = writeConfig(config);
let worker: RunningWorker;

beforeAll(async () => {
  const my = await mysqlConnection();
  try {
    await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await my.query(`CREATE TABLE ${TABLE} (id BIGINT PRIMARY KEY, user_id INT, kind VARCHAR(10), amount DECIMAL(12,2), note VARCHAR(40))`);
    await my.query(
      `INSERT INTO ${TABLE} SELECT seq, seq % 9973, ELT(1 + seq % 4, 'click', 'view', 'buy', 'leave'), (seq % 100000) / 100, CONCAT('event number ', seq)
         FROM seq_1_to_${ROWS}`,
    );
  } finally {
    await my.end();
  }
  const pg = await postgresClient();
  try {
    await pg.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await pg.query(`CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, user_id int, kind text, amount numeric(12,2), note text)`);
    await pg.query(
      `INSERT INTO ${TABLE} SELECT s, s % 9973, (ARRAY['click','view','buy','leave'])[1 + s % 4], (s % 100000) / 100.0, 'event number ' || s
         FROM generate_series(1, ${ROWS}) s`,
    );
    await pg.query(`VACUUM ANALYZE ${TABLE}`);
  } finally {
    await pg.end();
  }
  worker = await startWorker(file);
});

afterAll(async () => {
  await worker?.stop();
});

/** The connection ID of the extraction reading the table in MariaDB, once it streams. */
async function mysqlExtraction(): Promise<number | undefined> {
  const my = await mysqlConnection();
  try {
    const [rows] = await my.query(
      "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE '%bqsync:extract%' AND INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%'",
      [TEST_DATABASE, `%${TABLE}%`],
    );
    return (rows as { id: number }[])[0]?.id;
  } finally {
    await my.end();
  }
}

async function postgresExtraction(): Promise<number | undefined> {
  const pg = new PgClient({ connectionString: POSTGRES_URL });
  await pg.connect();
  try {
    const { rows } = await pg.query(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%' AND query LIKE '%bqsync:extract%' AND query LIKE $2 AND state = 'active'`,
      [TEST_DATABASE, `%${TABLE}%`],
    );
    return rows[0]?.pid;
  } finally {
    await pg.end();
  }
}

/** Kills the extraction once it has streamed a while; returns the connection it killed. */
async function killMidStream(find: () => Promise<number | undefined>, kill: (id: number) => Promise<void>): Promise<number> {
  const id = await eventually(find, 120_000, `the extraction of ${TABLE}`);
  // Soon after the query starts: the server hands the rows out within a few seconds, and a
  // kill after its last row would cut nothing (the test would then fail, seeing no retry).
  await new Promise((r) => setTimeout(r, 100));
  await kill(id);
  // Gone from the server: the kill really cut it.
  await eventually(async () => (await find()) !== id, 30_000, `connection ${id} to go`);
  return id;
}

const logSince = (from: number) => worker.output().slice(from);

test('MariaDB KILL of the extraction connection mid-stream: the table is read again and lands exactly', async () => {
  const from = worker.output().length;
  const run = runCli(['--config', file, 'run', 'sckmy', '--wait']);
  const killed = await killMidStream(mysqlExtraction, async (id) => {
    const my = await mysqlConnection();
    try {
      await my.query('KILL ?', [id]);
    } finally {
      await my.end();
    }
  });
  // The next attempt reads from a new connection.
  const again = await eventually(mysqlExtraction, 180_000, 'the extraction of the next attempt (none means the kill cut nothing)');
  expect(again).not.toBe(killed);
  const result = await run;
  const log = logSince(from);
  if (result.code !== 0) console.log(`${result.stdout}\n${result.stderr}\n--- worker ---\n${log.slice(-5000)}`);
  else console.log(`the worker logged: ${log.match(/.*was lost while reading the table.*/)?.[0]}`);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`shop\\.${TABLE}\\s+succeeded\\s+400,000\\s+400,000`));
  expect(log).toMatch(
    new RegExp(`Activity failed[\\s\\S]*shop\\.${TABLE}: the connection to source "shop" was lost while reading the table \\(Connection lost`),
  );
  expect(worker.process.exitCode).toBe(null);
  console.log(`MariaDB: killed connection ${killed} mid-stream; read again on connection ${again}; ${ROWS} rows compared`);
  expect(await expectSameRowsAsMysql(TABLE, 'it_sck_shop', COLUMNS)).toBe(ROWS);
});

test('PostgreSQL pg_terminate_backend of the extraction mid-stream: the table is read again and lands exactly', async () => {
  const from = worker.output().length;
  const run = runCli(['--config', file, 'run', 'sckpg', '--wait']);
  const killed = await killMidStream(postgresExtraction, async (pid) => {
    const pg = await postgresClient();
    try {
      const { rows } = await pg.query('SELECT pg_terminate_backend($1) AS ok', [pid]);
      expect(rows[0].ok).toBe(true);
    } finally {
      await pg.end();
    }
  });
  const again = await eventually(postgresExtraction, 180_000, 'the extraction of the next attempt (none means the kill cut nothing)');
  expect(again).not.toBe(killed);
  const result = await run;
  const log = logSince(from);
  if (result.code !== 0) console.log(`${result.stdout}\n${result.stderr}\n--- worker ---\n${log.slice(-5000)}`);
  else console.log(`the worker logged: ${log.match(/.*was lost while reading the table.*/)?.[0]}`);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`bill\\.${TABLE}\\s+succeeded\\s+400,000\\s+400,000`));
  expect(log).toMatch(new RegExp(`Activity failed[\\s\\S]*bill\\.${TABLE}: the connection to source "bill" was lost while reading the table`));
  expect(worker.process.exitCode).toBe(null);
  console.log(`PostgreSQL: terminated backend ${killed} mid-stream; read again by backend ${again}; ${ROWS} rows compared`);
  expect(await expectSameRowsAsPostgres(TABLE, 'it_sck_bill', COLUMNS)).toBe(ROWS);
});
