/**
 * The benchmark's data, generated server-side in MariaDB and PostgreSQL (MariaDB's
 * seq_1_to_N, PostgreSQL's generate_series), the same in both:
 *   - t_001 … t_NNN: the nightly run's tables, `--rows` rows in all, sized like a real
 *     schema (a few large tables, many small: table i holds rows ∝ 1/i), the column mix
 *     cycling narrow / medium / wide;
 *   - bench_narrow and bench_wide: `--extract-rows` rows each, for the extraction rate;
 *   - bench_one (1 row) and bench_huge (`--huge-rows`): the worker's memory at both ends.
 *   node dist/bench/generate.js [--database bqsync_bench] [--tables 120] [--rows 10000000]
 *        [--extract-rows 1000000] [--huge-rows 10000000] [--force]
 * Reruns are free when the database already holds the same shape (a _bench_info row).
 */
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import { parseArgs } from 'node:util';
import { COLUMN_MIXES, ColumnMix, mixDdl, mixSelect } from './column-mixes';

export interface BenchShape {
  database: string;
  tables: number;
  rows: number;
  extractRows: number;
  hugeRows: number;
}

export interface BenchTable {
  name: string;
  mix: ColumnMix;
  rows: number;
}

/** The nightly tables: rows ∝ 1/i, rounded, the remainder on the largest so the sum is exact. */
export function nightlyTables(tables: number, rows: number): BenchTable[] {
  const weights = Array.from({ length: tables }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const sized = weights.map((w) => Math.floor((rows * w) / total));
  sized[0] += rows - sized.reduce((a, b) => a + b, 0);
  return sized.map((n, i) => ({ name: `t_${String(i + 1).padStart(3, '0')}`, mix: COLUMN_MIXES[i % COLUMN_MIXES.length], rows: n }));
}

export function benchTables(shape: BenchShape): BenchTable[] {
  return [
    ...nightlyTables(shape.tables, shape.rows),
    { name: 'bench_narrow', mix: 'narrow', rows: shape.extractRows },
    { name: 'bench_wide', mix: 'wide', rows: shape.extractRows },
    { name: 'bench_one', mix: 'medium', rows: 1 },
    { name: 'bench_huge', mix: 'narrow', rows: shape.hugeRows },
  ];
}

/** Rows are inserted a million at a time: one huge statement would hold a huge undo log. */
const BATCH = 1_000_000;

function batches(rows: number): [number, number][] {
  const out: [number, number][] = [];
  for (let lo = 1; lo <= rows; lo += BATCH) out.push([lo, Math.min(rows, lo + BATCH - 1)]);
  return out;
}

const infoMatches = (r: Record<string, unknown> | undefined, s: BenchShape) =>
  r !== undefined && Number(r.tables) === s.tables && Number(r.total_rows) === s.rows && Number(r.extract_rows) === s.extractRows && Number(r.huge_rows) === s.hugeRows;

async function generateMysql(serverUrl: string, shape: BenchShape, force: boolean): Promise<void> {
  const conn = await mysql.createConnection({ uri: serverUrl });
  try {
    const db = '`' + shape.database.replace(/`/g, '``') + '`';
    if (!force) {
      const info = await conn
        .query(`SELECT * FROM ${db}._bench_info`)
        .then(([rows]) => (rows as Record<string, unknown>[])[0])
        .catch(() => undefined);
      if (infoMatches(info, shape)) return;
    }
    await conn.query(`DROP DATABASE IF EXISTS ${db}`);
    await conn.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.query(`USE ${db}`);
    await conn.query("SET time_zone = '+00:00'");
    for (const t of benchTables(shape)) {
      await conn.query(`CREATE TABLE ${t.name} ${mixDdl(t.mix, 'mysql')}`);
      for (const [lo, hi] of batches(t.rows)) {
        await conn.query(`INSERT INTO ${t.name} SELECT ${mixSelect(t.mix, 'mysql', 'seq')} FROM seq_${lo}_to_${hi}`);
      }
    }
    await conn.query('CREATE TABLE _bench_info (tables INT, total_rows BIGINT, extract_rows BIGINT, huge_rows BIGINT)');
    await conn.query('INSERT INTO _bench_info VALUES (?, ?, ?, ?)', [shape.tables, shape.rows, shape.extractRows, shape.hugeRows]);
  } finally {
    await conn.end();
  }
}

async function generatePostgres(serverUrl: string, shape: BenchShape, force: boolean): Promise<void> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [shape.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${shape.database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  const pg = new Client({ connectionString: serverUrl.replace(/\/[^/?]*(\?|$)/, `/${encodeURIComponent(shape.database)}$1`) });
  await pg.connect();
  try {
    if (!force) {
      const info = await pg
        .query('SELECT * FROM public._bench_info')
        .then((r) => r.rows[0])
        .catch(() => undefined);
      if (infoMatches(info, shape)) return;
    }
    await pg.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
    for (const t of benchTables(shape)) {
      await pg.query(`CREATE TABLE ${t.name} ${mixDdl(t.mix, 'postgres')}`);
      for (const [lo, hi] of batches(t.rows)) {
        await pg.query(`INSERT INTO ${t.name} SELECT ${mixSelect(t.mix, 'postgres', 's')} FROM generate_series(${lo}::bigint, ${hi}::bigint) s`);
      }
    }
    await pg.query('CREATE TABLE _bench_info (tables int, total_rows bigint, extract_rows bigint, huge_rows bigint)');
    await pg.query('INSERT INTO _bench_info VALUES ($1, $2, $3, $4)', [shape.tables, shape.rows, shape.extractRows, shape.hugeRows]);
    // Statistics and the visibility map now, so that no autovacuum runs during a measurement.
    await pg.query('VACUUM ANALYZE');
  } finally {
    await pg.end();
  }
}

export async function generate(shape: BenchShape, urls: { mysql: string; postgres: string }, force = false): Promise<void> {
  await Promise.all([generateMysql(urls.mysql, shape, force), generatePostgres(urls.postgres, shape, force)]);
}

export const SERVER_URLS = {
  mysql: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/',
  postgres: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};

export function shapeFromArgs(args: string[]): { shape: BenchShape; force: boolean } {
  const { values } = parseArgs({
    args,
    strict: false,
    options: {
      database: { type: 'string', default: 'bqsync_bench' },
      tables: { type: 'string', default: '120' },
      rows: { type: 'string', default: '10000000' },
      'extract-rows': { type: 'string', default: '1000000' },
      'huge-rows': { type: 'string', default: '10000000' },
      force: { type: 'boolean', default: false },
    },
  });
  const num = (name: string) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not "${values[name]}"`);
    return n;
  };
  const database = String(values.database);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database)) throw new Error(`--database "${database}" must be letters, digits and _`);
  return {
    shape: { database, tables: num('tables'), rows: num('rows'), extractRows: num('extract-rows'), hugeRows: num('huge-rows') },
    force: values.force === true,
  };
}

if (require.main === module) {
  const { shape, force } = shapeFromArgs(process.argv.slice(2));
  const began = Date.now();
  generate(shape, SERVER_URLS, force).then(
    () =>
      console.log(
        `[bench] ${shape.database}: ${shape.tables} tables with ${shape.rows.toLocaleString('en-US')} rows in all, ` +
          `extraction tables of ${shape.extractRows.toLocaleString('en-US')} rows, a ${shape.hugeRows.toLocaleString('en-US')}-row table ` +
          `(${((Date.now() - began) / 1000).toFixed(0)} s)`,
      ),
    (err) => {
      console.error(`[bench] generating the data failed: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
