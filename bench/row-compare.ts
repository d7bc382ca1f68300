/**
 * A destination table against its MariaDB source, every value of every row, in bounded
 * memory. The key space is cut into buckets; for each, the destination's rows of the bucket
 * (one query ordered by key, read page by page) and the source's (streamed in key order)
 * are walked side by side. A key only in the source is missing, only in the destination
 * extra, twice in the destination doubled; a key on both sides with other values differs.
 * Only counts and the first few keys are kept, never values.
 * The emulator has no indexes: each bucket's query scans the whole table, so fewer, larger
 * buckets take less time and more of the emulator's memory; a bucket of 1,000,000 rows runs
 * its SQLite (WebAssembly, 4 GiB at most) out of memory (bench/results.md).
 */
import type { BigQuery } from '@google-cloud/bigquery';
import { createConnection, type Connection } from 'mysql2';
import { peakRssMiB, resetPeakRss, seconds } from './report';

export interface ComparedColumn {
  name: string;
  /** DATETIME is written differently by each side (see `sameText`). */
  kind: 'plain' | 'datetime';
}

export interface RowCompareTarget {
  /** mysql://… with the database. */
  sourceUri: string;
  sourceTable: string;
  bq: BigQuery;
  dataset: string;
  destinationTable: string;
  /** An integer key column, unique in the source. */
  key: string;
  columns: ComparedColumn[];
  /** Keys per bucket: one destination query each. */
  bucketKeys: number;
  /** Destination rows per page read. */
  pageRows: number;
}

export interface RowCompareResult {
  sourceRows: number;
  destinationRows: number;
  missing: number;
  extra: number;
  doubled: number;
  differing: number;
  /** The first keys found missing, extra, doubled or differing, at most FIRST_KEYS. */
  firstKeys: string[];
  buckets: number;
  seconds: number;
  /** Peak RSS of this process during the comparison. */
  peakRssMiB: number;
}

const FIRST_KEYS = 5;
type Row = Record<string, unknown>;

export const rowsAreSame = (r: RowCompareResult) => r.missing + r.extra + r.doubled + r.differing === 0;

export function describeCompare(r: RowCompareResult): string {
  if (rowsAreSame(r)) return `same, ${r.sourceRows.toLocaleString('en-US')} rows`;
  return `DIFFERENT: ${r.missing} missing, ${r.extra} extra, ${r.doubled} doubled, ${r.differing} with other values (first keys: ${r.firstKeys.join(', ')})`;
}

function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`row comparison: "${name}" is not a plain column or table name; rename it or quote it here`);
  return '`' + name + '`';
}

const text = (v: unknown) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' && 'value' in v ? String((v as { value: unknown }).value) : String(v));
// BigQuery writes a DATETIME with a T and without trailing zeros in its fraction (.1), MariaDB with a space and six digits (.100000).
const datetime = (v: unknown) => text(v).replace('T', ' ').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
const keyOf = (r: Row, key: string): bigint | undefined => (r[key] === null || r[key] === undefined ? undefined : BigInt(text(r[key])));

/** A bucket's bounds; an absent one is open, so that the first and last buckets also catch keys outside the source's range. */
interface Bucket {
  from?: bigint;
  below?: bigint;
}

function buckets(min: bigint | undefined, max: bigint | undefined, size: bigint): Bucket[] {
  if (min === undefined || max === undefined) return [{}];
  const cuts: bigint[] = [];
  for (let b = min + size; b <= max; b += size) cuts.push(b);
  return [undefined, ...cuts].map((from, i) => ({ from, below: cuts[i] }));
}

function where(b: Bucket, key: string, nullableKey: boolean, param: (name: 'from' | 'below') => string): string {
  const k = identifier(key);
  const parts = [b.from !== undefined ? `${k} >= ${param('from')}` : `TRUE`, b.below !== undefined ? `${k} < ${param('below')}` : `TRUE`];
  // A NULL key cannot be in the source (it is unique there); in the destination it is extra, and the first bucket finds it.
  return nullableKey && b.from === undefined ? `(${k} IS NULL OR (${parts.join(' AND ')}))` : parts.join(' AND ');
}

/** The destination's rows of one bucket, ordered by key, one page in memory at a time. */
async function* destinationRows(t: RowCompareTarget, b: Bucket): AsyncGenerator<Row> {
  const select = [t.key, ...t.columns.map((c) => c.name)].map(identifier).join(', ');
  const params: Record<string, string> = {};
  const types: Record<string, string> = {};
  const query = `SELECT ${select} FROM ${identifier(t.dataset)}.${identifier(t.destinationTable)} WHERE ${where(b, t.key, true, (name) => {
    params[name] = String(b[name]);
    types[name] = 'INT64';
    return `@${name}`;
  })} ORDER BY ${identifier(t.key)}`;
  const [job] = await t.bq.createQueryJob({ query, useLegacySql: false, ...(Object.keys(params).length > 0 && { params, types }) });
  let pageToken: string | undefined;
  do {
    const [rows, next] = await job.getQueryResults({ autoPaginate: false, maxResults: t.pageRows, pageToken, wrapIntegers: true });
    yield* rows as Row[];
    pageToken = (next as { pageToken?: string } | null)?.pageToken;
  } while (pageToken);
}

/** The source's rows of one bucket, ordered by key, streamed (the connection pauses while the comparison catches up). */
function sourceRows(conn: Connection, t: RowCompareTarget, b: Bucket): AsyncIterator<Row> {
  const select = [t.key, ...t.columns.map((c) => c.name)].map(identifier).join(', ');
  const values: string[] = [];
  const sql = `SELECT ${select} FROM ${identifier(t.sourceTable)} WHERE ${where(b, t.key, false, (name) => {
    values.push(String(b[name]));
    return '?';
  })} ORDER BY ${identifier(t.key)}`;
  return (conn.query({ sql, values }).stream({ highWaterMark: 1_000 }) as AsyncIterable<Row>)[Symbol.asyncIterator]();
}

export async function compareRows(t: RowCompareTarget): Promise<RowCompareResult> {
  resetPeakRss();
  const began = process.hrtime.bigint();
  const r: RowCompareResult = { sourceRows: 0, destinationRows: 0, missing: 0, extra: 0, doubled: 0, differing: 0, firstKeys: [], buckets: 0, seconds: 0, peakRssMiB: 0 };
  const note = (key: bigint | undefined) => {
    if (r.firstKeys.length < FIRST_KEYS) r.firstKeys.push(key === undefined ? 'NULL' : String(key));
  };
  const line = (row: Row) => t.columns.map((c) => (c.kind === 'datetime' ? datetime(row[c.name]) : text(row[c.name]))).join('|');
  const conn = createConnection({ uri: t.sourceUri, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  try {
    // The source waits while a bucket's destination query runs; a server that may not write for a minute would drop it.
    await conn.promise().query('SET SESSION net_write_timeout = 3600');
    const [[range]] = (await conn.promise().query({ sql: `SELECT MIN(${identifier(t.key)}) AS lo, MAX(${identifier(t.key)}) AS hi FROM ${identifier(t.sourceTable)}` })) as unknown as [Row[]];
    const all = buckets(keyOf(range, 'lo'), keyOf(range, 'hi'), BigInt(t.bucketKeys));
    for (const [i, b] of all.entries()) {
      const bucketBegan = process.hrtime.bigint();
      const dst = destinationRows(t, b);
      // The destination's first page before the source's query: the source then streams without a long wait.
      let d = await dst.next();
      const src = sourceRows(conn, t, b);
      let s = await src.next();
      let lastDestination: bigint | undefined;
      while (!s.done || !d.done) {
        const dk = d.done ? undefined : keyOf(d.value, t.key);
        if (!d.done && (dk === undefined || dk === lastDestination)) {
          if (dk === undefined) r.extra++;
          else r.doubled++;
          note(dk);
          r.destinationRows++;
          d = await dst.next();
          continue;
        }
        const sk = s.done ? undefined : keyOf(s.value, t.key)!;
        if (sk === undefined || (dk !== undefined && dk < sk)) {
          r.extra++;
          note(dk);
          r.destinationRows++;
          lastDestination = dk;
          d = await dst.next();
        } else if (dk === undefined || sk < dk) {
          r.missing++;
          note(sk);
          r.sourceRows++;
          s = await src.next();
        } else {
          if (line(s.value) !== line(d.value)) {
            r.differing++;
            note(sk);
          }
          r.sourceRows++;
          r.destinationRows++;
          lastDestination = dk;
          [s, d] = await Promise.all([src.next(), dst.next()]);
        }
      }
      r.buckets++;
      console.log(`[bench] row by row, bucket ${i + 1}/${all.length}: ${r.sourceRows.toLocaleString('en-US')} source rows so far, ${seconds(bucketBegan).toFixed(0)} s`);
    }
  } finally {
    conn.destroy();
  }
  r.seconds = seconds(began);
  r.peakRssMiB = peakRssMiB();
  return r;
}
