import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BigQuery } from '@google-cloud/bigquery';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TableTask } from '../../common/payloads';
import { countRows } from '../../bigquery/tables';
import { crashPoint } from './crash-point';
import { failure } from '../../common/failures';
import { planKeyChunks } from './key-chunks';
import { awaitJob, PriorJob, submitLoad, submitQuery } from '../../bigquery/jobs';
import { jobId } from '../../bigquery/job-ids';
import { buildReplaceSql } from '../../bigquery/replace-sql';
import { RowEncoder } from '../../bigquery/row-encoder';
import type { DestinationField } from '../../bigquery/schema-drift';
import type { SourceReader } from '../../sources/driver';
import { writeStagingFile } from '../../bigquery/load-file';
import type { TableShape } from './shape';
import type { ColumnMapping } from '../../bigquery/types';

export interface ChunkedLoad {
  bq: BigQuery;
  reader: SourceReader;
  task: TableTask;
  shape: TableShape;
  /** The schema to load with (source columns plus kept dropped ones). */
  fields: DestinationField[];
  key: ColumnMapping;
  /** The database's estimate of the table's rows, to size the ranges. */
  estimatedRows: number;
  prefix: string;
  prior: PriorJob[];
  /** Sequence number of this attempt's first job. */
  firstSeq: number;
  staging: { dataset: string; table: string };
  target: string;
  workDir: string;
  gzip: boolean;
  /** Called after each range, to fail early on values the table may not load. */
  checkValues: (encoder: RowEncoder) => void;
}

export interface ChunkedResult {
  rowsRead: number;
  bytesStaged: number;
  nulledValues: Record<string, number>;
  chunks: number;
  chunksResumed: number;
}

/**
 * A full load in key ranges: each range is read in its own snapshot and appended to a
 * staging table by its own load job, so that a crash costs one range, not the table: the
 * retry finds the ranges that landed by their job IDs (which carry each range's end) and
 * goes on after the last one. The destination then changes once, in one statement.
 * Each range is consistent in itself; rows that change between ranges land as of their
 * range's read (the next run brings them up to date).
 */
export async function loadInChunks(job: ChunkedLoad): Promise<ChunkedResult> {
  const ctx = Context.current();
  const { bq, task, shape, staging } = job;
  const landed: PriorJob[] = [];
  for (const prior of job.prior.filter((j) => j.kind === 'chunk' && !j.error)) {
    try {
      await awaitJob(bq, prior.id, () => ctx.heartbeat({ phase: 'resume', rows: 0, bytes: 0 }), ctx.cancellationSignal);
      landed.push(prior);
    } catch {
      ctx.cancellationSignal.throwIfAborted();
      break; // that range failed after all: read it again
    }
  }
  const resumeFrom = landed.at(-1)?.to;
  let rows = landed.reduce((n, j) => n + j.rows, 0);
  let bytes = 0;
  const nulledValues: Record<string, number> = {};
  let seq = job.firstSeq;
  let planned = 0;

  if (resumeFrom !== 'end') {
    const span = await job.reader.keyRange(task.table, job.key.source.name);
    const chunks = span
      ? planKeyChunks(span.min, span.max, job.estimatedRows, task.chunkRows!, resumeFrom)
      : [{ from: resumeFrom ?? '0' }];
    planned = chunks.length;
    // The next range is read while BigQuery loads the one before. A range's load job is
    // submitted only once the previous job has finished, so the ranges that landed are
    // always a prefix of the table: what a retry resumes after.
    const loads = new AbortController();
    const cancel = () => loads.abort(ctx.cancellationSignal.reason);
    ctx.cancellationSignal.addEventListener('abort', cancel);
    let previousLoad: Promise<void> | undefined;
    let progress: Record<string, unknown> = { phase: 'extract', rows, bytes };
    const beat = (p: Record<string, unknown>) => ctx.heartbeat((progress = p));
    try {
      for (const [i, chunk] of chunks.entries()) {
        const encoder = new RowEncoder(shape.mappings);
        const file = path.join(job.workDir, `range-${i}.json${job.gzip ? '.gz' : ''}`);
        const before = { rows, bytes };
        const range = landed.length + i + 1;
        const staged = await writeStagingFile(
          job.reader.streamRows(task.table, shape.mappings, { column: job.key.source.name, from: chunk.from, below: chunk.below }),
          encoder,
          file,
          (p) => beat({ phase: 'extract', rows: before.rows + p.rows, bytes: before.bytes + p.bytes, range }),
          { gzip: job.gzip, signal: ctx.cancellationSignal },
        );
        job.checkValues(encoder);
        for (const [c, n] of Object.entries(encoder.nulledValues)) nulledValues[c] = (nulledValues[c] ?? 0) + n;
        rows += staged.rows;
        bytes += staged.bytes;
        progress = { phase: 'load', rows, bytes, range };
        await previousLoad;
        const id = jobId(job.prefix, 'chunk', seq++, staged.rows, chunk.below ?? 'end');
        await submitLoad(bq, {
          dataset: staging.dataset,
          table: staging.table,
          file,
          schema: job.fields,
          jobId: id,
          // The first range starts the staging table afresh; the others add to it.
          writeDisposition: landed.length === 0 && i === 0 ? 'WRITE_TRUNCATE' : 'WRITE_APPEND',
        });
        crashPoint('chunk-submitted');
        previousLoad = awaitJob(bq, id, () => ctx.heartbeat(progress), loads.signal).then(() => fs.rm(file, { force: true }));
        // Awaited before the next submit, or below; a failure meanwhile must not go unhandled.
        previousLoad.catch(() => undefined);
      }
      await previousLoad;
    } finally {
      loads.abort();
      ctx.cancellationSignal.removeEventListener('abort', cancel);
    }
  }

  const stagedRows = await countRows(bq, bq.projectId, staging.dataset, staging.table);
  if (stagedRows !== rows && landed.length > 0) {
    // A range job of an earlier attempt finished without its rows: read every range again.
    return loadInChunks({ ...job, prior: [], firstSeq: seq });
  }
  if (stagedRows !== rows) {
    throw failure('RowCountMismatch', `${task.key}: the key ranges read ${rows} rows but ${staging.dataset}.${staging.table} holds ${stagedRows}; ` +
        'the destination was left as it was. Re-run the table; if it repeats, report it with this message');
  }
  const partition = shape.layout.timePartitioning
    ? shape.mappings.find((m) => m.bigQueryName === shape.layout.timePartitioning!.field)?.bigQueryType
    : undefined;
  const swapId = jobId(job.prefix, 'swap', seq++, rows);
  await submitQuery(bq, buildReplaceSql(job.target, `${bq.projectId}.${staging.dataset}.${staging.table}`, shape.layout, partition), swapId);
  crashPoint('swap-submitted');
  await awaitJob(bq, swapId, () => ctx.heartbeat({ phase: 'load', rows, bytes }), ctx.cancellationSignal);
  return { rowsRead: rows, bytesStaged: bytes, nulledValues, chunks: landed.length + planned, chunksResumed: landed.length };
}
