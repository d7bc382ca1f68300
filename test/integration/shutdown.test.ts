/**
 * A worker stopped in the middle of a large table, as ECS stops a task on a deploy or a
 * scale-in (SIGTERM, then SIGKILL after the stop timeout), or as a crashed host loses it
 * (SIGKILL at once). A second worker takes over; the run must end succeeded with exactly
 * the source's rows. Prints how long the shutdown took and how many rows were extracted
 * twice, measured by PostgreSQL itself (pg_stat_user_tables.seq_tup_read of the table).
 */
import { Client as PgClient } from 'pg';
import { bqRows, eventually, FAST_RETRY, postgresClient, postgresSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { BIGQUERY_PROJECT, POSTGRES_URL, TEST_DATABASE } from '../helpers/env';

const ROWS = 500_000;
const DATASET = 'it_shutdown';

async function createBigTable(name: string): Promise<void> {
  const pg = await postgresClient();
  try {
    await pg.query(`DROP TABLE IF EXISTS "${name}"`);
    await pg.query(`CREATE TABLE "${name}" (id bigint PRIMARY KEY, user_id int, kind text, amount numeric(12,2), note text)`);
    await pg.query(
      `INSERT INTO "${name}" SELECT s, s % 9973, (ARRAY['click','view','buy','leave'])[1 + s % 4], (s % 100000) / 100.0, 'event number ' || s
         FROM generate_series(1, ${ROWS}) s`,
    );
    // Analyzed now, so that autovacuum does not scan it during the measurement.
    await pg.query(`VACUUM ANALYZE "${name}"`);
  } finally {
    await pg.end();
  }
}

/** Rows PostgreSQL has handed out from sequential scans of the table, so far. */
async function rowsScanned(table: string): Promise<number> {
  // A new session each time: a session caches the statistics it has read.
  const pg = new PgClient({ connectionString: POSTGRES_URL });
  await pg.connect();
  try {
    const { rows } = await pg.query('SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = $1', [table]);
    return Number(rows[0].seq_tup_read);
  } finally {
    await pg.end();
  }
}

async function extracting(table: string): Promise<boolean> {
  const pg = new PgClient({ connectionString: POSTGRES_URL });
  await pg.connect();
  try {
    const { rows } = await pg.query(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%' AND query LIKE '%bqsync:extract%' AND query LIKE $2`,
      [TEST_DATABASE, `%${table}%`],
    );
    return Number(rows[0].n) > 0;
  } finally {
    await pg.end();
  }
}

/** COUNT, sum of ids and sum of squared ids: a checksum that a lost or doubled row changes. */
async function sourceChecksum(table: string): Promise<string[]> {
  const pg = await postgresClient();
  try {
    const { rows } = await pg.query(`SELECT count(*) AS n, sum(id) AS s, sum(id * id) AS q FROM "${table}"`);
    return [rows[0].n, rows[0].s, rows[0].q].map(String);
  } finally {
    await pg.end();
  }
}

async function bigQueryChecksum(table: string): Promise<string[]> {
  const [row] = await bqRows(`SELECT COUNT(*) AS n, SUM(id) AS s, SUM(id * id) AS q FROM \`${BIGQUERY_PROJECT}.${DATASET}.${table}\``);
  return [row.n, row.s, row.q].map((v) => String((v as { value?: string })?.value ?? v));
}

interface Scenario {
  table: string;
  signal: NodeJS.Signals;
  graceSeconds: number;
}

async function stopMidTable({ table, signal, graceSeconds }: Scenario) {
  await createBigTable(table);
  const expected = await sourceChecksum(table);
  const file = writeConfig(testConfig(`it-shutdown-${table}`, { bill: postgresSource(DATASET, { tables: [table] }) }, { [table]: { sources: ['bill'], heartbeatTimeout: '30s', retry: FAST_RETRY } }));
  const scannedBefore = await rowsScanned(table);
  const env = { BQSYNC_SHUTDOWN_GRACE_SECONDS: String(graceSeconds) };
  const first = await startWorker(file, env);
  let second: RunningWorker | undefined;
  try {
    const run = runCli(['--config', file, 'run', table, '--wait']);
    await eventually(() => extracting(table), 120_000, 'the extraction of the big table');
    const stopped = Date.now();
    const exited = first.stop(signal).then((code) => ({ code, at: Date.now() }));
    second = await startWorker(file, env);
    const { code, at } = await exited;
    const shutdownSeconds = (at - stopped) / 1000;
    const result = await run;
    const runSeconds = (Date.now() - stopped) / 1000;
    // Statistics reach the shared counters within a second of a session's end.
    await new Promise((r) => setTimeout(r, 1500));
    const scanned = (await rowsScanned(table)) - scannedBefore;
    return { code, shutdownSeconds, runSeconds, result, scanned, expected, first: first.output(), second: second.output() };
  } finally {
    await first.stop('SIGKILL');
    await second?.stop();
  }
}

const report = (what: string, r: { shutdownSeconds: number; runSeconds: number; scanned: number }) =>
  console.log(
    `${what}: the worker exited ${r.shutdownSeconds.toFixed(1)} s after the signal; the run ended ${r.runSeconds.toFixed(1)} s after it; ` +
      `${r.scanned.toLocaleString('en-US')} rows extracted for ${ROWS.toLocaleString('en-US')} (${(r.scanned - ROWS).toLocaleString('en-US')} extracted twice)`,
  );

test('SIGTERM in the middle of a 500,000-row table: the table finishes within the grace period, nothing is extracted twice', async () => {
  const table = 'x_shut_term';
  const r = await stopMidTable({ table, signal: 'SIGTERM', graceSeconds: 90 });
  report('SIGTERM, grace 90 s', r);
  expect(r.result.stderr).toBe('');
  expect(r.result.code).toBe(0);
  expect(r.result.stdout).toMatch(new RegExp(`bill\\.${table}\\s+succeeded\\s+500,000\\s+500,000`));
  expect(r.code).toBe(0);
  expect(r.shutdownSeconds).toBeLessThan(90);
  // The stopping worker finished the table itself.
  expect(r.first).toMatch(/table synced/);
  expect(r.second).not.toMatch(/table synced/);
  expect(r.scanned).toBe(ROWS);
  expect(await bigQueryChecksum(table)).toEqual(r.expected);
});

test('SIGTERM with a grace period too short for the table: cut off, retried on the other worker, exact rows', async () => {
  const table = 'x_shut_short';
  const r = await stopMidTable({ table, signal: 'SIGTERM', graceSeconds: 1 });
  report('SIGTERM, grace 1 s', r);
  expect(r.result.code).toBe(0);
  expect(r.code).toBe(0);
  // Cut off: the stopping worker did not finish the table, the other one did (how long the
  // worker took to exit is in the report above, a figure, not a bound: it varies with load).
  expect(r.first).not.toMatch(/table synced/);
  expect(r.second).toMatch(/table synced/);
  // Cut off while extracting, the other worker reads the table again; cut off while
  // BigQuery loads it, the other worker finds that load job and reads nothing again.
  if (r.scanned === ROWS) expect(r.result.stdout).toMatch(/load of an earlier attempt reused: bqsync_\S+_load1_500000r/);
  else expect(r.scanned).toBeGreaterThan(ROWS);
  expect(await bigQueryChecksum(table)).toEqual(r.expected);
});

test('SIGKILL in the middle of a 500,000-row table: retried after the heartbeat timeout on the other worker, exact rows', async () => {
  const table = 'x_shut_kill';
  const r = await stopMidTable({ table, signal: 'SIGKILL', graceSeconds: 90 });
  report('SIGKILL', r);
  expect(r.result.code).toBe(0);
  expect(r.result.stdout).toMatch(new RegExp(`bill\\.${table}\\s+succeeded\\s+500,000\\s+500,000`));
  expect(r.code).toBe(null);
  expect(r.second).toMatch(/table synced/);
  // What the killed worker had read is read again; the rest once.
  expect(r.scanned).toBeGreaterThan(ROWS);
  expect(r.scanned).toBeLessThanOrEqual(2 * ROWS);
  expect(await bigQueryChecksum(table)).toEqual(r.expected);
});
