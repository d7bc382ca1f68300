/**
 * PostgreSQL tables without an integer leading key column, read in ranges of their physical
 * blocks (ctid) that all import one exported snapshot: a text key and no key at all land
 * exact; rows updated (moved to other blocks), inserted and deleted while the ranges run
 * land as of the snapshot, none twice and none missing; and a snapshot lost in the middle
 * leaves the destination as it was, with a message that says so. Through PgBouncer in
 * transaction pooling and on a hot standby (both started by this file) the snapshot is
 * exported and imported as well: the ranges share it there too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectSameRows, expectSameRowsAsPostgres } from '../helpers/same-rows';
import { bigQuery, bqRows, eventually, FAST_RETRY, postgresClient, postgresSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { BIGQUERY_PROJECT, TEST_DATABASE } from '../helpers/env';
import { Client } from 'pg';
import { Pgbouncer, PrimaryAndStandby, startPgbouncer, startPrimaryAndStandby } from '../helpers/postgres-servers';

const DATASET = 'it_snap_ranges';
const config = testConfig(
  'it-snap-ranges',
  {
    billing: postgresSource(DATASET, {
      concurrency: 3,
      tables: [
        { name: 'x_sr_text', chunkRows: 2000, parallelRanges: 3 },
        { name: 'x_sr_nokey', chunkRows: 2000, parallelRanges: 3 },
        // Two permits: the snapshot's holder and one range at a time, so range 2 starts after range 1 has read.
        { name: 'x_sr_moving', chunkRows: 2000, parallelRanges: 2 },
        { name: 'x_sr_lost', chunkRows: 2000, parallelRanges: 2 },
      ],
    }),
    // The same table from a source that allows one table sync at once: no permit is left for a snapshot holder.
    billing_one: postgresSource('it_snap_one', { concurrency: 1, tables: [{ name: 'x_sr_nokey', chunkRows: 2000, parallelRanges: 3 }] }),
  },
  { itsnap: { sources: ['billing'], heartbeatTimeout: '10s', retry: FAST_RETRY }, itsnapone: { sources: ['billing_one'] } },
);
const file = writeConfig(config);
let workers: RunningWorker[] = [];
const gate = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-snap-')), 'hold-range');
/** A worker whose block range 2 waits, before it reads, while the gate file exists. */
const pausingWorker = () => startWorker(file, { BQSYNC_PAUSE_RANGE: '2', BQSYNC_PAUSE_FILE: gate });

/** 10,000 rows keyed by zero-padded text (the same order under any collation). */
const TEXT_ROWS = "SELECT 'k' || lpad(s::text, 6, '0') AS k, s AS n, 'row ' || s AS v FROM generate_series(1, 10000) s";

beforeAll(async () => {
  await bigQuery().dataset(DATASET).delete({ force: true }).catch(() => undefined);
  const pg = await postgresClient();
  await pg.query('DROP TABLE IF EXISTS x_sr_text, x_sr_nokey, x_sr_moving, x_sr_lost');
  for (const t of ['x_sr_text', 'x_sr_moving', 'x_sr_lost']) {
    await pg.query(`CREATE TABLE ${t} (k text PRIMARY KEY, n int NOT NULL, v text)`);
    await pg.query(`INSERT INTO ${t} ${TEXT_ROWS}`);
  }
  await pg.query('CREATE TABLE x_sr_nokey (n int, v text, made_at timestamptz)');
  await pg.query("INSERT INTO x_sr_nokey SELECT s, 'no key ' || s, timestamptz '2024-01-01 00:00:00+00' + s * interval '1 minute' FROM generate_series(1, 9000) s");
  for (const t of ['x_sr_text', 'x_sr_nokey', 'x_sr_moving', 'x_sr_lost']) await pg.query(`ANALYZE ${t}`);
  await pg.end();
});

beforeEach(() => {
  fs.rmSync(gate, { force: true });
  fs.rmSync(`${gate}.waiting`, { force: true });
});

afterEach(async () => {
  fs.rmSync(gate, { force: true });
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  workers = [];
});

afterAll(() => {
  fs.rmSync(path.dirname(gate), { recursive: true, force: true });
});

test('a text-keyed table and a table without a primary key land exact, read in block ranges of one snapshot', async () => {
  workers = [await startWorker(file), await startWorker(file)];
  const res = await runCli(['--config', file, 'sync', 'billing.x_sr_text', 'billing.x_sr_nokey', '--wait']);
  expect(res.code).toBe(0);
  // Three permits: the snapshot's holder and two ranges at once.
  expect(res.stdout).toMatch(/billing\.x_sr_text\s+succeeded\s+10,000\s+10,000.*read in 5 block ranges of one snapshot, up to 2 at once/);
  expect(res.stdout).toMatch(/billing\.x_sr_nokey\s+succeeded\s+9,000\s+9,000.*read in 5 block ranges of one snapshot, up to 2 at once/);
  expect(await expectSameRowsAsPostgres('x_sr_text', DATASET, ['k', 'n', 'v'], { key: 'k' })).toBe(10000);
  expect(await expectSameRowsAsPostgres('x_sr_nokey', DATASET, ['n', 'v', 'made_at'], { key: 'n' })).toBe(9000);
  // No session of the sync is left at the source: the holder's transaction ended (its backend exits just after).
  await eventually(async () => (await snapshotHolders()).length === 0, 10_000, "the snapshot holder's session to end");
});

test('with the source at concurrency 1, a table without a usable key is read in one piece, lands exact, and the result says why', async () => {
  await bigQuery().dataset('it_snap_one').delete({ force: true }).catch(() => undefined);
  workers = [await startWorker(file)];
  const res = await runCli(['--config', file, 'sync', 'billing_one.x_sr_nokey', '--wait']);
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/billing_one\.x_sr_nokey\s+succeeded\s+9,000\s+9,000/);
  expect(res.stdout).toContain("read in one piece: block ranges need the source's concurrency to be 2 or more (one session holds the shared snapshot while the others read), and it is 1");
  expect(await expectSameRowsAsPostgres('x_sr_nokey', 'it_snap_one', ['n', 'v', 'made_at'], { key: 'n' })).toBe(9000);
});

test('rows updated into other blocks, inserted and deleted between two ranges land as of the snapshot: none twice, none missing', async () => {
  workers = [await pausingWorker()];
  fs.writeFileSync(gate, '');
  const run = runCli(['--config', file, 'sync', 'billing.x_sr_moving', '--wait']);
  // Range 1 has read (one range at a time); range 2 waits before it reads.
  await eventually(() => fs.existsSync(`${gate}.waiting`), 120_000, 'block range 2 to wait');
  const pg = await postgresClient();
  let asOfSnapshot;
  try {
    asOfSnapshot = (await pg.query(`SELECT k, n, v FROM x_sr_moving ORDER BY k`)).rows;
    // Rows of range 1's blocks get new versions at the end of the table (the later ranges' blocks).
    const moved = await pg.query("UPDATE x_sr_moving SET v = v || ' moved' WHERE ctid < '(10,0)'::tid");
    expect(moved.rowCount).toBeGreaterThan(500);
    await pg.query("INSERT INTO x_sr_moving SELECT 'k' || lpad(s::text, 6, '0'), s, 'new ' || s FROM generate_series(10001, 10500) s");
    await pg.query('DELETE FROM x_sr_moving WHERE n % 10 = 0 AND n > 5000');
  } finally {
    await pg.end();
  }
  fs.rmSync(gate);
  const res = await run;
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/billing\.x_sr_moving\s+succeeded\s+10,000\s+10,000.*read in 5 block ranges of one snapshot, up to 1 at once/);
  expect(await expectSameRows(asOfSnapshot, DATASET, 'x_sr_moving', ['k', 'n', 'v'], 'k')).toBe(10000);
});

test("the snapshot's session killed mid-sync: the destination stays as it was, the operator is told why, and the next run lands exact", async () => {
  workers = [await pausingWorker()];
  // A first load, which the failed sync must leave untouched.
  expect((await runCli(['--config', file, 'sync', 'billing.x_sr_lost', '--wait'])).code).toBe(0);
  const before = await destinationRows('x_sr_lost');
  expect(before).toHaveLength(10000);
  const pg = await postgresClient();
  try {
    await pg.query("UPDATE x_sr_lost SET v = v || ' changed' WHERE n % 2 = 0");
    fs.rmSync(`${gate}.waiting`, { force: true });
    fs.writeFileSync(gate, '');
    const run = runCli(['--config', file, 'sync', 'billing.x_sr_lost', '--wait']);
    await eventually(() => fs.existsSync(`${gate}.waiting`), 120_000, 'block range 2 to wait');
    const [holder] = await snapshotHolders();
    expect(holder).toBeDefined();
    await pg.query('SELECT pg_terminate_backend($1)', [holder]);
    fs.rmSync(gate);
    const res = await run;
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/billing\.x_sr_lost.*shared snapshot.*it_snap_ranges\.x_sr_lost was left as it was/s);
    expect(await destinationRows('x_sr_lost')).toEqual(before);
    // The failed sync's staging table went with it, not left to its expiry.
    expect(await stagingTablesLeft()).toEqual([]);
    // No staged range reached the destination, and a new run reads every range in a new snapshot.
    const again = await runCli(['--config', file, 'sync', 'billing.x_sr_lost', '--wait']);
    expect(again.code).toBe(0);
    expect(await expectSameRowsAsPostgres('x_sr_lost', DATASET, ['k', 'n', 'v'], { key: 'k' })).toBe(10000);
  } finally {
    await pg.end();
  }
});

test("the worker holding the snapshot killed mid-sync: the range retried elsewhere cannot read another snapshot, and the destination stays as it was", async () => {
  const doomed = await pausingWorker();
  workers = [doomed];
  // A load of the table as it is now, which the failed sync must leave untouched.
  expect((await runCli(['--config', file, 'sync', 'billing.x_sr_lost', '--wait'])).code).toBe(0);
  fs.rmSync(`${gate}.waiting`, { force: true });
  const before = await destinationRows('x_sr_lost');
  expect(before).toHaveLength(10000);
  const pg = await postgresClient();
  try {
    await pg.query("UPDATE x_sr_lost SET v = v || ' again' WHERE n % 3 = 0");
  } finally {
    await pg.end();
  }
  fs.writeFileSync(gate, '');
  const run = runCli(['--config', file, 'sync', 'billing.x_sr_lost', '--wait']);
  // The doomed worker holds the snapshot and waits in range 2; it dies with both.
  await eventually(() => fs.existsSync(`${gate}.waiting`), 120_000, 'block range 2 to wait');
  expect(await snapshotHolders()).toHaveLength(1);
  await doomed.stop('SIGKILL');
  fs.rmSync(gate);
  workers = [doomed, await startWorker(file)];
  const res = await run;
  expect(res.code).not.toBe(0);
  expect(res.stdout + res.stderr).toMatch(/billing\.x_sr_lost.*shared snapshot.*it_snap_ranges\.x_sr_lost was left as it was/s);
  expect(await destinationRows('x_sr_lost')).toEqual(before);
});

/** The source sessions that hold an exported snapshot (their last query exported it). */
async function snapshotHolders(): Promise<number[]> {
  const pg = await postgresClient();
  try {
    const res = await pg.query(
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%bqsync:snapshot%' AND state = 'idle in transaction' AND pid <> pg_backend_pid()",
      [TEST_DATABASE],
    );
    return res.rows.map((r) => r.pid);
  } finally {
    await pg.end();
  }
}

async function destinationRows(table: string) {
  return bqRows(`SELECT k, n, v FROM \`${BIGQUERY_PROJECT}.${DATASET}.${table}\` ORDER BY k`);
}

describe('where the source is a pooler or a standby', () => {
  let bouncer: Pgbouncer;
  let servers: PrimaryAndStandby;
  let serversFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    // Enough server connections for the holder's transaction and two ranges.
    bouncer = await startPgbouncer({ upstreamPort: 5432, database: TEST_DATABASE, users: ['postgres'], poolSize: 3 });
    servers = await startPrimaryAndStandby('bqsync_snap_standby', []);
    const primary = new Client({ connectionString: servers.primary.url });
    await primary.connect();
    try {
      await primary.query(`CREATE TABLE x_sr_standby (k text PRIMARY KEY, n int NOT NULL, v text); INSERT INTO x_sr_standby ${TEXT_ROWS}; ANALYZE x_sr_standby`);
    } finally {
      await primary.end();
    }
    await servers.caughtUp();
    const ranged = { chunkRows: 2000, parallelRanges: 3 };
    serversFile = writeConfig(
      testConfig(
        'it-snap-ranges-servers',
        {
          pooled: postgresSource('it_snap_pooled', { url: '${TEST_SNAP_POOLED_URL}', concurrency: 3, tables: [{ name: 'x_sr_text', ...ranged }] }),
          standby: {
            type: 'postgres',
            url: '${TEST_SNAP_PRIMARY_URL}',
            replica: { url: '${TEST_SNAP_STANDBY_URL}' },
            dataset: 'it_snap_standby',
            concurrency: 3,
            tables: [{ name: 'x_sr_standby', ...ranged }],
          },
        },
        { itsnapservers: { sources: ['pooled', 'standby'], heartbeatTimeout: '10s', retry: FAST_RETRY } },
      ),
    );
    env = {
      TEST_SNAP_POOLED_URL: `postgres://postgres@127.0.0.1:${bouncer.port}/${TEST_DATABASE}`,
      TEST_SNAP_PRIMARY_URL: servers.primary.url,
      TEST_SNAP_STANDBY_URL: servers.standby.url,
    };
  }, 120_000);

  afterAll(async () => {
    await bouncer?.stop();
    await servers?.stop();
  });

  test('through PgBouncer in transaction pooling, the ranges import the snapshot on other server connections and land exact', async () => {
    workers = [await startWorker(serversFile, env)];
    const res = await runCli(['--config', serversFile, 'sync', 'pooled.x_sr_text', '--wait'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/pooled\.x_sr_text\s+succeeded\s+10,000\s+10,000.*read in 5 block ranges of one snapshot, up to 2 at once/);
    expect(await expectSameRowsAsPostgres('x_sr_text', 'it_snap_pooled', ['k', 'n', 'v'], { key: 'k' })).toBe(10000);
  });

  test('on a hot standby, the snapshot is exported and imported there, and the table lands exact', async () => {
    workers = [await startWorker(serversFile, env)];
    const standby = new Client({ connectionString: servers.standby.url });
    const primary = new Client({ connectionString: servers.primary.url });
    await standby.connect();
    await primary.connect();
    try {
      // Replay paused: a row the primary adds now is not on the standby, so its absence shows where the ranges read.
      await standby.query('SELECT pg_wal_replay_pause()');
      await primary.query("INSERT INTO x_sr_standby VALUES ('k999999', 999999, 'only on the primary')");
      const res = await runCli(['--config', serversFile, 'sync', 'standby.x_sr_standby', '--wait'], env);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/standby\.x_sr_standby\s+succeeded\s+10,000\s+10,000.*read in 5 block ranges of one snapshot, up to 2 at once/);
      const rows = (await standby.query('SELECT k, n, v FROM x_sr_standby ORDER BY k')).rows;
      expect(await expectSameRows(rows, 'it_snap_standby', 'x_sr_standby', ['k', 'n', 'v'], 'k')).toBe(10000);
    } finally {
      await standby.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
      await standby.end();
      await primary.end();
    }
  });
});

/** Staging tables of any sync still in the file's dataset. */
async function stagingTablesLeft(): Promise<string[]> {
  const [tables] = await bigQuery().dataset(DATASET).getTables();
  return tables.map((t) => t.id!).filter((id) => id.startsWith('_bqsync_stage_'));
}
