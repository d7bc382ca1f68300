import fs from 'node:fs/promises';
import path from 'node:path';
import type { TableField } from '@google-cloud/bigquery';
import { log } from '@temporalio/activity';
import type { KeyBounds, RangePlan, RangeTask, TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import { awaitJob } from '../../bigquery/jobs';
import { createExpiringTable, dropTable } from '../../bigquery/tables';
import type { KeysetRange, KeyValue, SourceConnection } from '../../sources/driver';
import { isWholeNumber, SourceColumn } from '../../sources/logical-types';
import type { CursorRead } from './high-water';
import { MAX_CHUNKS } from './key-chunks';
import type { SyncPlan } from './plan';
import { planRanges } from './range-plan';
import type { TableShape } from './shape';
import { rangesStagingTable, TableSync } from './sync-context';
import { loadJob, STAGING_EXPIRY_MS } from './writes';

/**
 * Key ranges of a key that does not start with an integer (a UUID, a code, a date, a
 * composite key led by one of those), where the engine can range over the key's order
 * (sources/mysql/keyset.ts): the plan walks the key in its order once and keeps every
 * `chunkRows`-th tuple as a boundary. Those tuples are row values, so they go to a small
 * BigQuery table beside the staging table, never into Temporal: the plan carries that
 * table's name and the ranges as boundary numbers, and each range reads its two
 * boundaries from the table by their place in it.
 */

/**
 * The key to split by its boundaries: every primary key column, in key order, when the
 * first is not a whole number (those split by their span, key-ranges.ts, or not at all).
 */
export interface BoundsChunking {
  key: SourceColumn[];
  estimatedRows: number;
}

export async function boundsChunking(reader: SourceConnection, task: TableTask, shape: TableShape): Promise<BoundsChunking | undefined> {
  if (!task.chunkRows || !reader.keyBoundaries) return undefined;
  const names = await reader.primaryKey(task.table);
  const key = names.map((n) => shape.mappings.find((m) => m.source.name === n)?.source);
  if (names.length === 0 || key.some((c) => !c) || isWholeNumber(key[0]!.type)) return undefined;
  const estimatedRows = (await reader.estimateRows([task.table])).get(task.table) ?? 0;
  return estimatedRows > task.chunkRows ? { key: key as SourceColumn[], estimatedRows } : undefined;
}

/**
 * The ranges' plan: their boundaries in their table, and the staging table every range
 * appends to. Undefined (the table is read in one piece) when the engine cannot range over
 * the key or the table turned out to hold no more than one range.
 */
export async function planBoundRanges(
  sync: TableSync,
  reader: SourceConnection,
  plan: SyncPlan,
  chunking: BoundsChunking,
  cursor: CursorRead | undefined,
): Promise<RangePlan | undefined> {
  const chunkRows = sync.task.chunkRows!;
  const every = Math.max(chunkRows, Math.ceil(chunking.estimatedRows / MAX_CHUNKS));
  const bounds = await reader.keyBoundaries!(sync.task.table, chunking.key, every, MAX_CHUNKS - 1);
  if (!bounds || bounds.length === 0) return undefined;
  const table = boundsTable(rangesStagingTable(sync.task.destination, sync.jobPrefix));
  await writeBounds(sync, table, chunking.key.length, bounds);
  const ranges = Array.from({ length: bounds.length + 1 }, (_, i) => (i < bounds.length ? { from: String(i), below: String(i + 1) } : { from: String(i) }));
  return planRanges(sync, plan, { column: chunking.key[0].name, ranges, bounds: { table, columns: chunking.key.map((c) => c.name) } }, cursor);
}

/** Beside the sync's staging table, and gone with it. */
export function boundsTable(staging: string): string {
  return `${staging.replace(/_ranges$/, '')}_bounds`;
}

/** Boundary `n` (from 1) with its values in columns k0, k1, ... as encoded text. */
function boundsSchema(columns: number): TableField[] {
  return [{ name: 'n', type: 'INT64', mode: 'REQUIRED' }, ...Array.from({ length: columns }, (_, i) => ({ name: `k${i}`, type: 'STRING', mode: 'REQUIRED' }))];
}

/** Loaded by one load job (a job ID per attempt), into a table that expires like the staging table. */
async function writeBounds(sync: TableSync, table: string, columns: number, bounds: KeyValue[][]): Promise<void> {
  const { dataset } = sync.task;
  const schema = boundsSchema(columns);
  const file = path.join(sync.workDir, 'bounds.json');
  const lines = bounds.map((tuple, i) => JSON.stringify({ n: i + 1, ...Object.fromEntries(tuple.map((v, j) => [`k${j}`, encodeKeyValue(v)])) }));
  await fs.writeFile(file, lines.join('\n') + '\n');
  await sync.current.ensureCurrent(`creating ${dataset}.${table}`);
  await createExpiringTable(sync.bq, dataset, table, schema, STAGING_EXPIRY_MS);
  const jobId = `${sync.jobPrefix}_a${sync.attempt}_bounds_${bounds.length}r`;
  await loadJob(sync, { dataset, table, file, schema, jobId, writeDisposition: 'WRITE_TRUNCATE' });
  await awaitJob(sync.bq, jobId, () => sync.heartbeat({ phase: 'extract', rows: 0, bytes: 0 }), sync.signal);
  await fs.rm(file, { force: true });
}

/** Lossless: text as the server's own, bytes in base64; the marker tells which. */
export function encodeKeyValue(v: KeyValue): string {
  return Buffer.isBuffer(v) ? `b64:${v.toString('base64')}` : `s:${v}`;
}

export function decodeKeyValue(text: string): KeyValue {
  if (text.startsWith('b64:')) return Buffer.from(text.slice(4), 'base64');
  if (text.startsWith('s:')) return text.slice(2);
  throw new Error('a key boundary of an unknown encoding');
}

/**
 * A range's key tuples: from boundary `from` (none before the first range) to boundary
 * `below` (none after the last, so rows added meanwhile are read too). Both rows are
 * listed from the table by their place (tabledata.list, no query job); were the table
 * ever listed in another order, they are found by their numbers instead.
 */
export async function rangeKeyset(sync: TableSync, input: RangeTask, shape: TableShape): Promise<KeysetRange> {
  const bounds = input.plan.bounds!;
  const columns = bounds.columns.map((name) => shape.mappings.find((m) => m.source.name === name)?.source);
  if (columns.some((c) => !c)) {
    throw failure('SchemaDrift', `${sync.task.key}: a key column the ranges split by is gone from the source; ${sync.task.dataset}.${sync.task.destination} was left as it was. Run the table again`);
  }
  const lowerN = Number(input.range.from);
  const upperN = input.range.below === undefined ? undefined : Number(input.range.below);
  const wanted = [lowerN > 0 ? lowerN : undefined, upperN].filter((n): n is number => n !== undefined);
  const found = await boundRows(sync, bounds, wanted);
  return {
    columns: columns as SourceColumn[],
    ...(lowerN > 0 && { lower: found.get(lowerN) }),
    ...(upperN !== undefined && { upper: found.get(upperN) }),
  };
}

type BoundRow = Record<string, unknown>;

async function boundRows(sync: TableSync, bounds: KeyBounds, wanted: number[]): Promise<Map<number, KeyValue[]>> {
  const table = sync.bq.dataset(sync.task.dataset).table(bounds.table);
  const tuples = (rows: BoundRow[]) => new Map(rows.map((r) => [Number(r.n), bounds.columns.map((_, j) => decodeKeyValue(String(r[`k${j}`])))]));
  const first = Math.min(...wanted);
  const [listed] = await table.getRows({ startIndex: String(first - 1), maxResults: wanted.length, autoPaginate: false });
  let found = tuples(listed as BoundRow[]);
  if (wanted.every((n) => found.has(n))) return found;
  const [all] = await table.getRows();
  found = tuples(all as BoundRow[]);
  const missing = wanted.filter((n) => !found.has(n));
  if (missing.length > 0) {
    throw failure('SchemaDrift', `${sync.task.key}: the key ranges' boundaries (${sync.task.dataset}.${bounds.table}) are gone or incomplete; ` +
        `${sync.task.dataset}.${sync.task.destination} was left as it was. Run the table again`);
  }
  return found;
}

/** The finish drops the boundaries with the staging table; left behind, they expire with it. */
export async function dropBoundsTable(sync: TableSync, bounds: KeyBounds | undefined): Promise<void> {
  if (!bounds) return;
  try {
    await sync.current.ensureCurrent('dropping its key boundaries');
    await dropTable(sync.bq, sync.task.dataset, bounds.table);
  } catch (err) {
    log.warn('key boundaries table left to its expiry', { table: `${sync.task.dataset}.${bounds.table}`, error: (err as Error).message });
  }
}
