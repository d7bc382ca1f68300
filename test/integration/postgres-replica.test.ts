/**
 * A PostgreSQL 15 primary and its hot standby, both started by this file (initdb, then
 * pg_basebackup -R; the standby with max_standby_streaming_delay 100ms and
 * hot_standby_feedback off), and a source whose `replica:` is the standby, reached through a
 * TCP proxy that can slow what the standby sends (a slow reader, made certain).
 *
 * Proves: a table sync reads from the replica (replay paused on the standby: a row inserted
 * on the primary since is not in BigQuery; after replay resumes, it is), while `plan`
 * discovers on the primary unless `useFor` names plan; a read on the standby that a VACUUM
 * on the primary conflicts with is cancelled (SQLSTATE 40001), reported with the table, the
 * replica and the settings to change, and retried: the table lands whole from the retry.
 */
import { Client } from 'pg';
import { BIGQUERY_PROJECT } from '../helpers/env';
import { bqCount, bqRows, eventually, FAST_RETRY, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { freePort } from '../helpers/free-port';
import { PrimaryAndStandby, startPrimaryAndStandby } from '../helpers/postgres-servers';
import { TcpProxy } from '../helpers/tcp-proxy';

const DATABASE = 'bqsync_replica';
const BIG_ROWS = 100_000;

let servers: PrimaryAndStandby;
let proxy: TcpProxy;
let worker: RunningWorker;
let file: string;
let primary: Client;
let standby: Client;

const source = (dataset: string, extra: object) => ({
  type: 'postgres',
  url: '${TEST_REP_PRIMARY_URL}',
  replica: { url: '${TEST_REP_STANDBY_URL}' },
  dataset,
  ...extra,
});

beforeAll(async () => {
  const started = Date.now();
  servers = await startPrimaryAndStandby(DATABASE, ['max_standby_streaming_delay=100ms', 'hot_standby_feedback=off']);
  console.log(`primary and hot standby up in ${Date.now() - started} ms`);
  primary = new Client({ connectionString: servers.primary.url });
  standby = new Client({ connectionString: servers.standby.url });
  await primary.connect();
  await standby.connect();
  await primary.query(`CREATE TABLE x_rep_orders (id int PRIMARY KEY, label text);
    INSERT INTO x_rep_orders SELECT g, 'order ' || g FROM generate_series(1, 5) g;
    CREATE TABLE x_rep_big WITH (autovacuum_enabled = false) AS SELECT g AS id, repeat('x', 100) AS filler FROM generate_series(1, ${BIG_ROWS}) g`);
  await primary.query('VACUUM x_rep_big');
  await servers.caughtUp();
  proxy = await TcpProxy.start(await freePort(), servers.standby.port);
  file = writeConfig(
    testConfig(
      'it-pg-replica',
      {
        rep: source('it_rep', { tables: ['x_rep_orders', 'x_rep_big'] }),
        repplan: source('it_rep_plan', { discover: { include: ['x_rep_*'] } }),
        repplanreplica: source('it_rep_plan2', { replica: { url: '${TEST_REP_STANDBY_URL}', useFor: ['read', 'plan'] }, discover: { include: ['x_rep_*'] } }),
      },
      { reprun: { sources: ['rep'], retry: FAST_RETRY }, planprimary: { sources: ['repplan'] }, planreplica: { sources: ['repplanreplica'] } },
    ),
  );
  const env = { TEST_REP_PRIMARY_URL: servers.primary.url, TEST_REP_STANDBY_URL: `postgres://postgres@127.0.0.1:${proxy.port}/${DATABASE}` };
  Object.assign(process.env, env); // for the CLI's plan, which connects from its own process
  worker = await startWorker(file, env);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await proxy?.down();
  await primary?.end();
  await standby?.end();
  await servers?.stop();
});

const ids = async () => (await bqRows(`SELECT id FROM \`${BIGQUERY_PROJECT}.it_rep.x_rep_orders\` ORDER BY id`)).map((r) => Number(String((r.id as { value: unknown }).value ?? r.id)));
const planned = async (pipeline: string) =>
  JSON.parse((await runCli(['--config', file, 'plan', pipeline, '--json'])).stdout).tables.map((t: { key: string }) => t.key.split('.')[1]);

test('the read goes to the replica; plan goes where useFor says', async () => {
  await standby.query('SELECT pg_wal_replay_pause()');
  await eventually(async () => (await standby.query('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0].s === 'paused', 10_000, 'replay to pause', 25);
  await primary.query("INSERT INTO x_rep_orders VALUES (6, 'not replayed yet'); CREATE TABLE x_rep_late (id int PRIMARY KEY)");
  try {
    const sync = await runCli(['--config', file, 'sync', 'rep.x_rep_orders', '--wait']);
    expect(sync.code).toBe(0);
    expect(await ids()).toEqual([1, 2, 3, 4, 5]);
    expect(await planned('planprimary')).toContain('x_rep_late');
    expect(await planned('planreplica')).not.toContain('x_rep_late');
  } finally {
    await standby.query('SELECT pg_wal_replay_resume()');
    await primary.query('DROP TABLE x_rep_late');
  }
  await servers.caughtUp();
  expect((await runCli(['--config', file, 'sync', 'rep.x_rep_orders', '--wait'])).code).toBe(0);
  expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
});

test('a read cancelled by a recovery conflict on the standby is named with the settings to change, and retried', async () => {
  // The standby's answers at 300 kB/s: the 11 MB read stays open while the primary vacuums.
  proxy.slowReplies(300_000);
  const extractOnStandby = async () =>
    (await standby.query(`SELECT 1 FROM pg_stat_activity WHERE query LIKE '%bqsync:extract%' AND state = 'active' AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%'`)).rowCount;
  const sync = runCli(['--config', file, 'sync', 'rep.x_rep_big', '--wait']);
  try {
    await eventually(extractOnStandby, 30_000, 'the read on the standby', 50);
    // Rows the read's snapshot still sees, removed on the primary; the standby must replay that.
    await primary.query('DELETE FROM x_rep_big WHERE id % 2 = 0');
    await primary.query('VACUUM x_rep_big');
    await eventually(async () => !(await extractOnStandby()), 30_000, 'the standby to cancel the read', 50);
  } finally {
    proxy.slowReplies(undefined);
  }
  const result = await sync;
  expect(result.stdout).toMatch(/rep\.x_rep_big\s+succeeded\s+50,000/);
  expect(await bqCount('it_rep', 'x_rep_big')).toBe(BIG_ROWS / 2);
  // The first attempt's failure, as the worker logged it: what happened, where, and what to change.
  const said = worker.output().replace(/\\"/g, '"');
  expect(said).toContain('rep.x_rep_big: source "rep" (its replica, sources.rep.replica.url) cancelled the read of the table in attempt 1 (40001: canceling statement due to conflict with recovery)');
  expect(said).toMatch(/max_standby_streaming_delay.*hot_standby_feedback = on.*a lower chunkRows for rep\.x_rep_big/);
}, 90_000);
