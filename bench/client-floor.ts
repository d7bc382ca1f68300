/**
 * A reference for what a client with no work of its own reaches on this machine: the
 * database's own command-line client, written in C, streams the table and writes the
 * server's text as it comes (no parsing into values, no JSON), to a file, or piped into a
 * second process that compresses at gzip level 1 with Node's zlib at its default buffers:
 *   - MariaDB: `mariadb --quick --batch --raw --skip-column-names -e 'SELECT * FROM t'`;
 *   - PostgreSQL: `psql -c 'COPY t TO STDOUT'`.
 * Plain, it tells how much of the gap to the server's own export is the server's sending
 * and the socket, which every client has. Through the pipe it is a reference, not a
 * floor: a compressor inside the reading process skips the pipe and can do better.
 * The clock includes starting the processes (a few milliseconds).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type FloorEngine = 'MariaDB' | 'PostgreSQL';

/** The client's command and arguments for one table, and the environment that carries the password. */
function clientCommand(engine: FloorEngine, url: string, table: string): { args: string[]; env: NodeJS.ProcessEnv } {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(table)) throw new Error(`table "${table}" must be letters, digits and _`);
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const password = decodeURIComponent(u.password);
  if (engine === 'MariaDB') {
    const args = ['mariadb', '--quick', '--batch', '--raw', '--skip-column-names', '-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username) || 'root'];
    return { args: [...args, database, '-e', `SELECT * FROM \`${table}\``], env: { ...process.env, MYSQL_PWD: password } };
  }
  const args = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username) || 'postgres'];
  return { args: [...args, '-d', database, '-c', `COPY "${table}" TO STDOUT`], env: { ...process.env, PGPASSWORD: password } };
}

/** Compresses standard input to standard output at gzip level 1 with zlib's default buffers. */
const GZIP_LEVEL_1 = "const z = require('node:zlib'); process.stdin.pipe(z.createGzip({ level: 1 })).pipe(process.stdout);";

/**
 * Runs the client once into `dir`, plain or through Node's gzip level 1; the file's size
 * when done. bash only wires the pipe: the commands' words and the file name travel as arguments.
 */
export async function clientToFile(engine: FloorEngine, url: string, table: string, gzip: boolean, dir: string): Promise<{ rows: number; bytes: number }> {
  const { args, env } = clientCommand(engine, url, table);
  const file = path.join(dir, gzip ? 'client.txt.gz' : 'client.txt');
  const script = gzip ? 'out="$1"; node="$2"; zip="$3"; shift 3; "$@" | "$node" -e "$zip" > "$out"' : 'out="$1"; shift 3; exec "$@" > "$out"';
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bash', ['-c', `set -o pipefail; ${script}`, 'bash', file, process.execPath, GZIP_LEVEL_1, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} for ${table} exited ${code}: ${stderr.trim().slice(0, 500)}`))));
    });
    return { rows: 0, bytes: fs.statSync(file).size };
  } finally {
    fs.rmSync(file, { force: true });
  }
}
