/**
 * Extraction speed of one table, next to the database's own export of the same table in
 * the same run: `mysqldump` for MariaDB, `COPY ... TO STDOUT` for PostgreSQL.
 *   node dist/bench/extract.js [--database bqsync_demo] [--table events_big]
 * Prints rows/s, MB/s, the ratio to the reference and this process's peak RSS.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MysqlSource } from '../activities/mysql-source';
import { PostgresSource } from '../activities/postgres-source';
import { RowEncoder } from '../activities/row-encoder';
import { SourceReader } from '../activities/source';
import { writeStagingFile } from '../activities/staging-file';

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

/** Runs a shell command, its output to /dev/null; returns seconds and bytes it wrote. */
function timeCommand(cmd: string): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const began = process.hrtime.bigint();
    const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (d: Buffer) => (bytes += d.length));
    child.on('exit', (code) =>
      code === 0 ? resolve({ seconds: Number(process.hrtime.bigint() - began) / 1e9, bytes }) : reject(new Error(`${cmd} exited ${code}`)),
    );
  });
}

async function extract(reader: SourceReader, table: string, gzip: boolean) {
  const columns = (await reader.describeTable(table)).map((c) => ({ ...reader.mapColumn(c), bigQueryName: c.name }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-bench-')), 'rows.json');
  const began = process.hrtime.bigint();
  const p = await writeStagingFile(reader.streamRows(table, columns), new RowEncoder(columns), file, () => undefined, { gzip });
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  const fileBytes = fs.statSync(file).size;
  fs.rmSync(path.dirname(file), { recursive: true });
  return { seconds, rows: p.rows, bytes: p.bytes, fileBytes };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { database: { type: 'string', default: 'bqsync_demo' }, table: { type: 'string', default: 'events_big' } },
  });
  const db = values.database!;
  const table = values.table!;
  const lines: string[] = [];
  const row = (...c: (string | number)[]) => lines.push(c.map((v, i) => String(v).padEnd(i === 0 ? 34 : 14)).join(''));
  row('what', 'seconds', 'rows/s', 'MB/s', 'vs reference');

  const dump = await timeCommand(`mysqldump -h127.0.0.1 -uroot --single-transaction --skip-lock-tables ${db} ${table}`);
  const copy = await timeCommand(`psql -h 127.0.0.1 -U postgres -d ${db} -Atc "COPY ${table} TO STDOUT"`);

  const my = await MysqlSource.connect(`mysql://root@127.0.0.1:3306/${db}`);
  const myPlain = await extract(my, table, false);
  const myGzip = await extract(my, table, true);
  await my.close();
  const pg = await PostgresSource.connect(`postgres://postgres@127.0.0.1:5432/${db}`);
  const pgPlain = await extract(pg, table, false);
  const pgGzip = await extract(pg, table, true);
  await pg.close();

  const rows = myPlain.rows;
  const rate = (s: number) => Math.round(rows / s);
  const mbs = (b: number, s: number) => (b / 1e6 / s).toFixed(1);
  row(`mysqldump ${table}`, dump.seconds.toFixed(2), rate(dump.seconds), mbs(dump.bytes, dump.seconds), '1.00');
  row('bqsync MariaDB -> NDJSON', myPlain.seconds.toFixed(2), rate(myPlain.seconds), mbs(myPlain.bytes, myPlain.seconds), (dump.seconds / myPlain.seconds).toFixed(2));
  row('bqsync MariaDB -> NDJSON gzip', myGzip.seconds.toFixed(2), rate(myGzip.seconds), mbs(myGzip.bytes, myGzip.seconds), (dump.seconds / myGzip.seconds).toFixed(2));
  row(`COPY ${table} TO STDOUT`, copy.seconds.toFixed(2), rate(copy.seconds), mbs(copy.bytes, copy.seconds), '1.00');
  row('bqsync PostgreSQL -> NDJSON', pgPlain.seconds.toFixed(2), rate(pgPlain.seconds), mbs(pgPlain.bytes, pgPlain.seconds), (copy.seconds / pgPlain.seconds).toFixed(2));
  row('bqsync PostgreSQL -> NDJSON gzip', pgGzip.seconds.toFixed(2), rate(pgGzip.seconds), mbs(pgGzip.bytes, pgGzip.seconds), (copy.seconds / pgGzip.seconds).toFixed(2));
  console.log(`${rows.toLocaleString('en-US')} rows of ${db}.${table}; ${os.cpus().length} CPUs, Node ${process.version}`);
  console.log(lines.join('\n'));
  console.log(
    `gzip level 1 shrinks the staging file from ${(myPlain.fileBytes / 1e6).toFixed(0)} MB to ${(myGzip.fileBytes / 1e6).toFixed(0)} MB (MariaDB), ` +
      `${(pgPlain.fileBytes / 1e6).toFixed(0)} MB to ${(pgGzip.fileBytes / 1e6).toFixed(0)} MB (PostgreSQL)`,
  );
  console.log(`peak RSS of this process: ${peakRssMiB().toFixed(0)} MiB`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
