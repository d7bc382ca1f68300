import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from './eventually';
import { freePort } from './free-port';

/**
 * A PostgreSQL cluster, a hot standby of it and a MariaDB server of the test's own, in a
 * temporary directory, serving TLS with a certificate of a throwaway CA: the shared local
 * servers, which other tests use at the same time, are left as they are.
 *
 * The server certificate names DNS:localhost and IP:127.0.0.2, not 127.0.0.1. 127.0.0.2 (a
 * loopback address that is not one of bqsync's local hosts) stands for a server on the
 * network: bqsync verifies it by default. 127.0.0.1 is a host name the certificate does not
 * name.
 */
export interface TlsServers {
  dir: string;
  /** The CA that signed the server certificate; a decoy CA that did not; both in one bundle. */
  caFile: string;
  decoyCaFile: string;
  bundleFile: string;
  pgPort: number;
  standbyPort: number;
  mysqlPort: number;
  /** Runs SQL as the superuser on the primary, the standby, or in MariaDB (through its socket). */
  psql(sql: string, port?: number): string;
  mariadb(sql: string): string;
  startedMs: number;
  stop(): Promise<void>;
}

const PG_BIN = fs.readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => fs.existsSync(`${d}/initdb`))!;

function makeCertificates(dir: string): { caFile: string; decoyCaFile: string; bundleFile: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=bqsync test CA');
  openssl('req', '-x509', ...ec, '-keyout', 'decoy.key', '-out', 'decoy.crt', '-days', '2', '-subj', '/CN=bqsync decoy CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  fs.writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.2\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf');
  // A bundle of several CAs, as the RDS global bundle is.
  const bundleFile = path.join(dir, 'bundle.pem');
  fs.writeFileSync(bundleFile, fs.readFileSync(path.join(dir, 'decoy.crt'), 'utf8') + fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'));
  fs.chmodSync(path.join(dir, 'server.key'), 0o600);
  return { caFile: path.join(dir, 'ca.crt'), decoyCaFile: path.join(dir, 'decoy.crt'), bundleFile };
}

export async function startTlsServers(): Promise<TlsServers> {
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-tls-'));
  const certs = makeCertificates(dir);
  const [pgPort, standbyPort, mysqlPort] = [await freePort(), await freePort(), await freePort()];

  // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
  const asPostgres = (bin: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/${bin}`, ...args], { stdio: 'pipe' }).toString();
  fs.chmodSync(dir, 0o755);
  execFileSync('chown', ['-R', 'postgres', dir]);
  const pgData = path.join(dir, 'pg');
  asPostgres('initdb', ['-D', pgData, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  fs.appendFileSync(path.join(pgData, 'pg_hba.conf'), 'host all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n');
  const pgOptions = (port: number) =>
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1,127.0.0.2 -c ssl=on -c ssl_cert_file=${dir}/server.crt ` +
    `-c ssl_key_file=${dir}/server.key -c fsync=off -c shared_buffers=16MB -c max_connections=30`;
  asPostgres('pg_ctl', ['-D', pgData, '-o', pgOptions(pgPort), '-l', path.join(dir, 'pg.log'), '-w', 'start']);
  // The standby: a base backup of the primary that follows it (-R writes the connection).
  const standbyData = path.join(dir, 'standby');
  asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres', '-D', standbyData, '-R', '-X', 'stream', '--no-sync']);
  asPostgres('pg_ctl', ['-D', standbyData, '-o', pgOptions(standbyPort), '-l', path.join(dir, 'standby.log'), '-w', 'start']);

  const myData = path.join(dir, 'my');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${myData}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], {
    stdio: 'pipe',
  });
  const socket = path.join(dir, 'my.sock');
  const mariadbd: ChildProcess = spawn(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      `--datadir=${myData}`,
      '--user=root',
      `--port=${mysqlPort}`,
      '--bind-address=127.0.0.1,127.0.0.2',
      `--socket=${socket}`,
      `--pid-file=${dir}/my.pid`,
      `--ssl-ca=${certs.caFile}`,
      `--ssl-cert=${dir}/server.crt`,
      `--ssl-key=${dir}/server.key`,
      '--character-set-server=utf8mb4',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      '--skip-name-resolve',
      `--log-error=${dir}/my.err`,
    ],
    { stdio: 'ignore' },
  );
  const mariadb = (sql: string) => execFileSync('mariadb', ['--no-defaults', '--default-character-set=utf8mb4', '-S', socket, '-uroot', '-N', '-B', '-e', sql], { stdio: 'pipe' }).toString();
  await eventually(
    async () => {
      try {
        mariadb('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    'the test MariaDB server to accept connections',
  );

  return {
    dir,
    ...certs,
    pgPort,
    standbyPort,
    mysqlPort,
    psql: (sql, port = pgPort) => execFileSync('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { stdio: 'pipe' }).toString(),
    mariadb,
    startedMs: Date.now() - started,
    stop: async () => {
      const exited = new Promise((resolve) => (mariadbd.exitCode === null ? mariadbd.once('exit', resolve) : resolve(undefined)));
      mariadbd.kill('SIGTERM');
      for (const data of [standbyData, pgData]) {
        try {
          asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
        } catch {
          // already down
        }
      }
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
