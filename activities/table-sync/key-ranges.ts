import fs from 'node:fs/promises';
import path from 'node:path';
import type { TableTask } from '../../common/payloads';
import { awaitJob, LoadRequest, PriorJob } from '../../bigquery/jobs';
import { jobId } from '../../bigquery/job-ids';
import type { ColumnMapping } from '../../bigquery/types';
import { isWholeNumber } from '../../sources/logical-types';
import type { SourceConnection } from '../../sources/driver';
import { crashPoint } from './crash-point';
import { KeyChunk, planKeyChunks } from './key-chunks';
import type { SyncPlan } from './plan';
import { readRowsToFile, StagedRows } from './read-rows';
import { JobSequence, landedRangePrefix } from './resume';
import { createStagingTable, loadJob } from './writes';
import type { TableShape } from './shape';
import type { Progress, TableSync } from './sync-context';
import { rangesCountMismatch, stagingRows } from './verify';

/**
 * A full load in key ranges: each range is read in its own snapshot and appended to the
 * staging table by its own load job, so that a crash costs one range, not the table: the
 * retry finds the ranges that landed by their job IDs (which carry each range's end) and
 * goes on after the last one. The destination then changes once (load-key-ranges.ts).
 * Each range is consistent in itself; rows that change between ranges land as of their
 * range's read (the next run brings them up to date).
 */

/** The column to split by, and the database's estimate of the table's rows, to size the ranges. */
export interface Chunking {
  key: ColumnMapping;
  estimatedRows: number;
}

/** The staging table holds every range; `next` is the sequence number of the job after them. */
export interface StagedRanges extends StagedRows {
  chunks: number;
  chunksResumed: number;
  next: number;
}

/**
 * The column to split a full load by: the primary key's first column when it is an integer
 * (a composite key splits on it: rows that share it stay in one range), when the table has
 * more rows than `chunkRows` (or an earlier attempt already started in ranges).
 */
export async function chunkingKey(reader: SourceConnection, task: TableTask, shape: TableShape, resuming: boolean): Promise<Chunking | undefined> {
  if (!task.chunkRows) return undefined;
  const key = await reader.primaryKey(task.table);
  const mapping = key.length >= 1 ? shape.mappings.find((m) => m.bigQueryName === key[0]) : undefined;
  if (!mapping || !isIntegerKey(mapping)) return undefined;
  const estimatedRows = (await reader.estimateRows([task.table])).get(task.table) ?? 0;
  return resuming || estimatedRows > task.chunkRows ? { key: mapping, estimatedRows } : undefined;
}

/** Ranges need a key whose loaded values are the source's integers. */
function isIntegerKey(mapping: ColumnMapping): boolean {
  return !mapping.transform && ['INT64', 'NUMERIC'].includes(mapping.bigQueryType) && isWholeNumber(mapping.source.type);
}

/**
 * Goes on after the ranges earlier attempts landed, and checks that the staging table holds
 * every row read before the destination is touched.
 */
export async function stageKeyRanges(sync: TableSync, reader: SourceConnection, plan: SyncPlan, chunking: Chunking, jobs: JobSequence): Promise<StagedRanges> {
  const landed = await landedRangePrefix(sync, jobs.prior);
  const staged = await stageRanges(sync, reader, plan, chunking, landed, jobs.next);
  const holds = await stagingRows(sync);
  if (holds === staged.rows) return staged;
  if (landed.length === 0) throw rangesCountMismatch(sync, staged.rows, holds);
  // A range job of an earlier attempt finished without its rows.
  return readEveryRangeAgain(sync, reader, plan, chunking, staged.next);
}

/** Trusts none of the ranges that landed: reads the table again from its first range. */
async function readEveryRangeAgain(sync: TableSync, reader: SourceConnection, plan: SyncPlan, chunking: Chunking, next: number): Promise<StagedRanges> {
  const staged = await stageRanges(sync, reader, plan, chunking, [], next);
  const holds = await stagingRows(sync);
  if (holds !== staged.rows) throw rangesCountMismatch(sync, staged.rows, holds);
  return staged;
}

/** Reads and loads the ranges after `landed`; the next range is read while BigQuery loads the one before. */
async function stageRanges(
  sync: TableSync,
  reader: SourceConnection,
  plan: SyncPlan,
  chunking: Chunking,
  landed: PriorJob[],
  firstSeq: number,
): Promise<StagedRanges> {
  const resumeFrom = landed.at(-1)?.to;
  const total: StagedRows = { rows: landed.reduce((n, j) => n + j.rows, 0), bytes: 0, nulledValues: {} };
  const summary = (chunks: number, next: number) => ({ ...total, chunks: landed.length + chunks, chunksResumed: landed.length, next });
  if (resumeFrom === 'end') return summary(0, firstSeq); // every range landed
  const chunks = await rangesToRead(reader, sync.task, chunking, resumeFrom);
  const loads = rangeLoads(sync);
  let next = firstSeq;
  try {
    for (const [i, chunk] of chunks.entries()) {
      const range = landed.length + i + 1;
      const file = path.join(sync.workDir, `range-${i}.json${sync.gzip ? '.gz' : ''}`);
      const before = { rows: total.rows, bytes: total.bytes };
      const filter = { column: chunking.key.source.name, from: chunk.from, below: chunk.below };
      const staged = await readRowsToFile(sync, reader, plan.shape, filter, file, (p) =>
        loads.beat({ phase: 'extract', rows: before.rows + p.rows, bytes: before.bytes + p.bytes, range }),
      );
      addTo(total, staged);
      // The first range starts the staging table afresh; the others add to it.
      const disposition = landed.length === 0 && i === 0 ? 'WRITE_TRUNCATE' : 'WRITE_APPEND';
      const id = jobId(sync.jobPrefix, sync.attempt, 'chunk', next++, staged.rows, chunk.below ?? 'end');
      await loads.submit(rangeLoad(sync, plan, file, id, disposition), { phase: 'load', rows: total.rows, bytes: total.bytes, range });
    }
    await loads.finished();
  } finally {
    loads.close();
  }
  return summary(chunks.length, next);
}

/** The ranges from `resumeFrom` (or the lowest key) to the end, of about `chunkRows` rows each. */
export async function rangesToRead(reader: SourceConnection, task: TableTask, chunking: Chunking, resumeFrom?: string): Promise<KeyChunk[]> {
  const span = await reader.keyRange(task.table, chunking.key.source.name);
  return span ? planKeyChunks(span.min, span.max, chunking.estimatedRows, task.chunkRows!, resumeFrom) : [{ from: resumeFrom ?? '0' }];
}

function rangeLoad(sync: TableSync, plan: SyncPlan, file: string, id: string, disposition: LoadRequest['writeDisposition']): LoadRequest {
  const { dataset, table } = sync.staging;
  // The schema to load with: the source's columns plus the destination's kept dropped ones.
  return { dataset, table, file, schema: plan.schema.fields, jobId: id, writeDisposition: disposition };
}

function addTo(total: StagedRows, range: StagedRows): void {
  total.rows += range.rows;
  total.bytes += range.bytes;
  for (const [c, n] of Object.entries(range.nulledValues)) total.nulledValues[c] = (total.nulledValues[c] ?? 0) + n;
}

/**
 * The ranges' load jobs, one at a time: a range's job is submitted only once the previous
 * job has finished, so the ranges that landed are always a prefix of the table, which is
 * what a retry resumes after. While a job runs, the heartbeat carries the latest progress.
 */
function rangeLoads(sync: TableSync) {
  const aborter = new AbortController();
  const cancel = () => aborter.abort(sync.signal.reason);
  sync.signal.addEventListener('abort', cancel);
  let progress: Progress = { phase: 'extract', rows: 0, bytes: 0 };
  let previous: Promise<void> | undefined;
  return {
    beat(p: Progress): void {
      sync.heartbeat((progress = p));
    },
    async submit(req: LoadRequest, loading: Progress): Promise<void> {
      progress = loading;
      await previous;
      // The first range starts this attempt's own staging table, with its expiry.
      if (req.writeDisposition === 'WRITE_TRUNCATE') await createStagingTable(sync, req.schema);
      await loadJob(sync, req);
      crashPoint('chunk-submitted');
      previous = awaitJob(sync.bq, req.jobId, () => sync.heartbeat(progress), aborter.signal).then(() => removeStaged(sync, req.file));
      // Awaited before the next submit, or by finished(); a failure meanwhile must not go unhandled.
      previous.catch(() => undefined);
    },
    finished: async (): Promise<void> => previous,
    close(): void {
      aborter.abort();
      sync.signal.removeEventListener('abort', cancel);
    },
  };
}

/** A range's file goes once its job has landed, and its bytes back to the staging budget. */
async function removeStaged(sync: TableSync, file: string): Promise<void> {
  await fs.rm(file, { force: true });
  sync.budget.release((f) => f === file);
}
