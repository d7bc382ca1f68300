/**
 * Extraction rate of a narrow and a wide table from each source, next to the database's
 * own fastest export of the same table in the same run:
 *   - MariaDB: SELECT … INTO OUTFILE (what `mysqldump --tab` runs), written by the server;
 *   - PostgreSQL: COPY … TO a file, written by the server.
 * bqsync's path is the one its activity runs: describe, map, stream, encode NDJSON, write
 * the staging file (plain, and gzip level 1 as for real BigQuery).
 *   node dist/bench/extract.js [--database bqsync_bench] [--tables bench_narrow,bench_wide]
 *        [--engines MariaDB,PostgreSQL] [--json FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { RowEncoder } from '../bigquery/row-encoder';
import type { SourceConnection } from '../sources/driver';
import { DRIVERS } from '../sources/registry';
import { bigQueryColumn } from '../bigquery/types';
import { writeStagingFile } from '../bigquery/load-file';
import { peakRssMiB, seconds, table as formatTable } from './report';

const ENGINES = ['MariaDB', 'PostgreSQL'] as const;
type Engine = (typeof ENGINES)[number];

export interface ExtractFigure {
  engine: Engine;
  table: string;
  what: string;
  rows: number;
  seconds: number;
  bytes: number;
  /** Reference seconds ÷ these seconds: 1.0 is as fast as the database's own export. */
  ratio: number;
}

/** bqsync's extraction of one table into a staging file. */
async function bqsyncExtract(reader: SourceConnection, table: string, gzip: boolean) {
  const columns = (await reader.describeTable(table)).map(bigQueryColumn);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-bench-'));
  try {
    const began = process.hrtime.bigint();
    const p = await writeStagingFile(reader.streamRows(table, columns.map((c) => c.source)), new RowEncoder(columns), path.join(dir, 'rows.json'), () => undefined, { gzip });
    return { seconds: seconds(began), rows: p.rows, bytes: p.bytes };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A directory both this process and the database server (same host) can write and read. */
function sharedDirectory(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-export-'));
  fs.chmodSync(dir, 0o777);
  return dir;
}

async function mysqlOutfile(url: string, table: string) {
  const conn = await mysql.createConnection({ uri: url });
  const dir = sharedDirectory();
  const file = path.join(dir, `${table}.tsv`);
  try {
    const began = process.hrtime.bigint();
    // The file name is this process's own temp path; INTO OUTFILE takes no placeholder.
    await conn.query(`SELECT * INTO OUTFILE ${conn.escape(file)} FROM \`${table}\``);
    return { seconds: seconds(began), bytes: fs.statSync(file).size };
  } finally {
    await conn.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresCopy(url: string, table: string) {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const dir = sharedDirectory();
  const file = path.join(dir, `${table}.tsv`);
  try {
    const began = process.hrtime.bigint();
    await pg.query(`COPY "${table}" TO ${pg.escapeLiteral(file)}`);
    return { seconds: seconds(began), bytes: fs.statSync(file).size };
  } finally {
    await pg.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function extractionFigures(database: string, tables: string[], engines: readonly Engine[] = ENGINES): Promise<ExtractFigure[]> {
  const mysqlUrl = `mysql://root@127.0.0.1:3306/${database}`;
  const postgresUrl = `postgres://postgres@127.0.0.1:5432/${database}`;
  const figures: ExtractFigure[] = [];
  for (const table of tables) {
    for (const engine of engines) {
      const reference = engine === 'MariaDB' ? await mysqlOutfile(mysqlUrl, table) : await postgresCopy(postgresUrl, table);
      const reader = engine === 'MariaDB' ? await DRIVERS.mysql.connect(mysqlUrl) : await DRIVERS.postgres.connect(postgresUrl);
      try {
        const plain = await bqsyncExtract(reader, table, false);
        const gzip = await bqsyncExtract(reader, table, true);
        const refName = engine === 'MariaDB' ? 'SELECT INTO OUTFILE' : 'COPY TO file';
        figures.push({ engine, table, what: refName, rows: plain.rows, seconds: reference.seconds, bytes: reference.bytes, ratio: 1 });
        figures.push({ engine, table, what: 'bqsync NDJSON', rows: plain.rows, seconds: plain.seconds, bytes: plain.bytes, ratio: reference.seconds / plain.seconds });
        figures.push({ engine, table, what: 'bqsync NDJSON gzip', rows: gzip.rows, seconds: gzip.seconds, bytes: gzip.bytes, ratio: reference.seconds / gzip.seconds });
      } finally {
        await reader.close();
      }
    }
  }
  return figures;
}

export function formatExtraction(figures: ExtractFigure[]): string {
  return formatTable(
    ['source', 'table', 'what', 'rows', 'seconds', 'rows/s', 'MB/s', 'ratio to export'],
    figures.map((f) => [
      f.engine,
      f.table,
      f.what,
      f.rows.toLocaleString('en-US'),
      f.seconds.toFixed(2),
      Math.round(f.rows / f.seconds).toLocaleString('en-US'),
      (f.bytes / 1e6 / f.seconds).toFixed(1),
      f.ratio.toFixed(2),
    ]),
  );
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'bqsync_bench' },
      tables: { type: 'string', default: 'bench_narrow,bench_wide' },
      json: { type: 'string' },
      engines: { type: 'string', default: ENGINES.join(',') },
    },
  });
  extractionFigures(values.database!, values.tables!.split(','), values.engines!.split(',') as Engine[]).then(
    (figures) => {
      console.log(formatExtraction(figures));
      console.log(`\npeak RSS of this process: ${peakRssMiB().toFixed(0)} MiB`);
      if (values.json) fs.writeFileSync(values.json, JSON.stringify(figures, null, 2));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
