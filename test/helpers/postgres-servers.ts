/**
 * PostgreSQL servers a test starts and stops itself: PgBouncer in front of the local
 * PostgreSQL, and a primary with a hot standby of its own (initdb + pg_basebackup -R in
 * temporary directories, so the shared local cluster is never reconfigured). Ports are
 * free ones the OS picks. PostgreSQL and PgBouncer refuse to run as root: as root they run
 * as the `postgres` OS user.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { eventually } from './eventually';
import { freePort } from './free-port';

const run = promisify(execFile);
const IS_ROOT = process.getuid?.() === 0;
const PG_BIN = '/usr/lib/postgresql/15/bin';
/** Debian's package puts it in /usr/sbin, which a user's PATH may lack. */
const PGBOUNCER = fs.existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : 'pgbouncer';

/** A command as the `postgres` OS user when this process is root. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return IS_ROOT ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/** A directory the server's OS user owns. */
function serverDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (IS_ROOT) {
    const { uid, gid } = fs.statSync('/var/lib/postgresql');
    fs.chownSync(dir, uid, gid);
  }
  return dir;
}

async function exec(command: string, args: string[]): Promise<string> {
  const [cmd, argv] = asPostgres(command, args);
  try {
    return (await run(cmd, argv, { maxBuffer: 1 << 24 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

export interface Pgbouncer {
  port: number;
  stop: () => Promise<void>;
}

/**
 * PgBouncer in transaction pooling in front of 127.0.0.1:`upstreamPort`, for `database`,
 * logging in the given users without passwords (the local server trusts them), with at most
 * `poolSize` server connections per user, so that clients share them.
 */
export async function startPgbouncer(options: { upstreamPort: number; database: string; users: string[]; poolSize: number }): Promise<Pgbouncer> {
  const dir = serverDir('bqsync-pgbouncer-');
  const port = await freePort();
  const authFile = path.join(dir, 'userlist.txt');
  fs.writeFileSync(authFile, options.users.map((u) => `"${u}" ""`).join('\n') + '\n');
  const ini = path.join(dir, 'pgbouncer.ini');
  fs.writeFileSync(
    ini,
    [
      '[databases]',
      `${options.database} = host=127.0.0.1 port=${options.upstreamPort} dbname=${options.database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${dir}`,
      'auth_type = trust',
      `auth_file = ${authFile}`,
      'pool_mode = transaction',
      'max_client_conn = 50',
      `default_pool_size = ${options.poolSize}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  for (const f of [authFile, ini]) fs.chmodSync(f, 0o644);
  const args = IS_ROOT ? ['-u', 'postgres', ini] : [ini];
  const child = spawn(PGBOUNCER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`pgbouncer exited: ${out}${readLog(dir)}`);
      return canConnect(`postgres://${options.users[0]}@127.0.0.1:${port}/${options.database}`);
    },
    10_000,
    'pgbouncer to accept connections',
    50,
  );
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8');
  } catch {
    return '';
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PostgresServer {
  port: number;
  url: string;
}

export interface PrimaryAndStandby {
  primary: PostgresServer;
  standby: PostgresServer;
  /** Waits until the standby has replayed everything the primary has written so far. */
  caughtUp: () => Promise<void>;
  stop: () => Promise<void>;
}

/** Settings for a small, fast throwaway server. */
const SMALL = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'shared_buffers=16MB', 'max_connections=30', 'log_min_messages=warning'];

/**
 * A primary (initdb, trust auth, wal_level replica) and a hot standby made from it with
 * pg_basebackup -R, each on a free port. `standbySettings` are the standby's own, e.g. a
 * low max_standby_streaming_delay.
 */
export async function startPrimaryAndStandby(database: string, standbySettings: string[]): Promise<PrimaryAndStandby> {
  const root = serverDir('bqsync-replica-');
  const primaryDir = path.join(root, 'primary');
  const standbyDir = path.join(root, 'standby');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  await exec(`${PG_BIN}/initdb`, ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const started: string[] = [];
  const start = async (dir: string, port: number, settings: string[]) => {
    const options = [`-p ${port}`, `-c listen_addresses=127.0.0.1`, `-c unix_socket_directories=${root}`, ...[...SMALL, ...settings].map((s) => `-c ${s}`)];
    await exec(`${PG_BIN}/pg_ctl`, ['-D', dir, '-l', path.join(root, `${path.basename(dir)}.log`), '-w', '-o', options.join(' '), 'start']);
    started.push(dir);
  };
  const stop = async () => {
    for (const dir of started.reverse()) await exec(`${PG_BIN}/pg_ctl`, ['-D', dir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    await start(primaryDir, primaryPort, ['wal_level=replica', 'max_wal_senders=4']);
    const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}`;
    await exec(`${PG_BIN}/pg_basebackup`, ['-d', primaryUrl, '-D', standbyDir, '-R', '-X', 'stream', '--no-sync', '-c', 'fast']);
    await start(standbyDir, standbyPort, ['hot_standby=on', ...standbySettings]);
    const admin = new Client({ connectionString: `${primaryUrl}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`).finally(() => admin.end());
    const primary = { port: primaryPort, url: `${primaryUrl}/${database}` };
    const standby = { port: standbyPort, url: `postgres://postgres@127.0.0.1:${standbyPort}/${database}` };
    const caughtUp = () => waitForReplay(primary.url, standby.url);
    await eventually(() => canConnect(standby.url), 20_000, 'the standby to replay the new database', 50);
    return { primary, standby, caughtUp, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForReplay(primaryUrl: string, standbyUrl: string): Promise<void> {
  const primary = new Client({ connectionString: primaryUrl });
  const standby = new Client({ connectionString: standbyUrl });
  await primary.connect();
  await standby.connect();
  try {
    const lsn = (await primary.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l;
    await eventually(
      async () => (await standby.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0].ok,
      20_000,
      'the standby to replay the primary',
      25,
    );
  } finally {
    await primary.end();
    await standby.end();
  }
}
