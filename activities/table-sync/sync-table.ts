import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { BigQuery } from '@google-cloud/bigquery';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedConfig } from '../../config/load';
import type { TableSyncOutcome, TableTask } from '../../common/payloads';
import { createBigQuery, ensureDataset } from '../../bigquery/client';
import { countRows, describeTable, destinationTable, dropTable, followSchema, maxCursor, restoreDescriptions } from '../../bigquery/tables';
import { GOOGLE_BIGQUERY_ENDPOINT, isBigQueryUnreachable } from '../../bigquery/unreachable';
import { SourceConnectionLost } from '../../sources/connection-lost';
import { crashPoint } from './crash-point';
import { cursorLowerBound } from './cursor';
import { failure, schemaFailure } from '../../common/failures';
import { awaitJob, PriorJob, priorJobs, submitLoad, submitQuery } from '../../bigquery/jobs';
import { jobId, jobPrefix } from '../../bigquery/job-ids';
import { buildMergeSql } from '../../bigquery/merge-sql';
import { loadInChunks } from './key-ranges';
import { openSource } from '../../sources/open-source';
import { RowEncoder } from '../../bigquery/row-encoder';
import { DestinationField, hasChanges, planSchema, SchemaPlan } from '../../bigquery/schema-drift';
import type { RowFilter, SourceReader } from '../../sources/driver';
import { writeStagingFile } from '../../bigquery/load-file';
import { describeShape, TableShape } from './shape';
import { ColumnMapping, isValidBigQueryTableName } from '../../bigquery/types';

/**
 * Syncs one table: extract to a local staging file, load it, verify the row count.
 *
 * replace (and every first load or full refresh): one WRITE_TRUNCATE load job replaces the
 * table atomically. append and merge: the rows from the last loaded cursor value (minus the
 * overlap) go to a staging table, and one MERGE statement applies them. The cursor is read
 * back from the destination itself, so it advances exactly when the data does.
 *
 * Every BigQuery job has a deterministic ID (load-jobs.ts): a retry after a crash finds the
 * job an earlier attempt submitted and waits for it instead of loading the rows again.
 * One activity on purpose: the staging file lives on this worker's disk.
 */
export function makeSyncTable(loaded: LoadedConfig) {
  const syncOnce = makeSyncOnce(loaded);
  return async function syncTable(task: TableTask): Promise<TableSyncOutcome> {
    try {
      return await syncOnce(task);
    } catch (err) {
      throw readableFault(err, task, loaded);
    }
  };
}

/**
 * Faults of the world around the sync (a source connection cut, BigQuery out of reach) as
 * one line that names the table and what was lost; they stay retryable. Others pass as they are.
 */
function readableFault(err: unknown, task: TableTask, loaded: LoadedConfig): unknown {
  const attempt = Context.current().info.attempt;
  if (err instanceof SourceConnectionLost) {
    return failure('SourceConnectionLost', `${task.key}: the connection to source "${task.source}" was lost while reading the table (${err.reason}) in attempt ${attempt}. ` +
        "A retry reads the table again; if it repeats, the database server's log says who ended the connection");
  }
  if (isBigQueryUnreachable(err)) {
    const endpoint = loaded.config.bigquery.endpoint ?? GOOGLE_BIGQUERY_ENDPOINT;
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    return failure('BigQueryUnreachable', `${task.key}: BigQuery was unreachable at ${endpoint} (${reason}) in attempt ${attempt}. ` +
        'A retry reuses the load jobs that landed; if it lasts, check the network path to BigQuery');
  }
  return err;
}

function makeSyncOnce(loaded: LoadedConfig) {
  return async function syncOnce(task: TableTask): Promise<TableSyncOutcome> {
    const ctx = Context.current();
    const { bigquery } = loaded.config;
    if (!isValidBigQueryTableName(task.destination)) {
      throw schemaFailure(
        `${task.key}: ${JSON.stringify(task.destination)} is not a valid BigQuery table name ` +
          '(letters, marks, digits, underscores, dashes and spaces); give it one in ' +
          `${loaded.file}: list it under sources.${task.source}.tables as { name: ${JSON.stringify(task.table)}, destination: <valid name> }` +
          (task.discovered ? `, or leave it out with sources.${task.source}.discover.exclude` : ''),
      );
    }
    // Always run by the tableSync workflow; the fallback keeps the job IDs unique regardless.
    const { workflowId, runId } = ctx.info.workflowExecution ?? { workflowId: ctx.info.activityType, runId: ctx.info.activityId };
    const prefix = jobPrefix(workflowId, runId);
    const bq = createBigQuery(bigquery);
    const target = `${bigquery.project}.${task.dataset}.${task.destination}`;
    const staging = { dataset: task.dataset, table: `_bqsync_stage_${task.destination}_${prefix.slice(-16)}` };
    const heartbeat = (phase: string, rows: number, bytes = 0) => ctx.heartbeat({ phase, rows, bytes });

    const reader = await openSource(loaded, task.source);
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bqsync-'));
    try {
      const shape = await describeShape(reader, task, loaded.file);
      await ensureDataset(bq, task.dataset, bigquery.location);
      const current = await destinationTable(bq, task.dataset, task.destination);
      const existing = current?.fields;
      const schema = planDestinationSchema(task, shape, existing);
      // A first load, a full refresh and mode replace all rewrite the whole table.
      const incremental = task.mode !== 'replace' && !task.fullRefresh && existing !== undefined;
      const outcome: TableSyncOutcome = { rowsRead: 0, rowsLoaded: 0, bytesStaged: 0, nulledValues: {}, mode: task.mode };
      if (hasChanges(schema.changes)) outcome.schemaChanges = schema.changes;
      const resumed = async (job: PriorJob, rowsLoaded: number) => {
        await reader.close();
        outcome.resumedJob = job.id;
        outcome.rowsRead = job.rows;
        outcome.rowsLoaded = rowsLoaded;
        if (task.mode !== 'replace' && shape.cursor) outcome.cursorTo = await maxCursor(bq, target, shape.cursor.bigQueryName);
        return outcome;
      };

      // A retry: did an earlier attempt already get rows into BigQuery?
      const prior = ctx.info.attempt > 1 ? await priorJobs(bq, prefix, new Date(ctx.info.scheduledTimestampMs)) : [];
      const next = (prior.at(-1)?.n ?? 0) + 1;
      let landed = await lastLandedJob(bq, prior, () => heartbeat('resume', 0));
      if (landed && (landed.kind === 'load' || landed.kind === 'swap')) {
        // The table already holds this sync's rows when the count says so: verify, do not load again.
        const count = await countRows(bq, bigquery.project, task.dataset, task.destination);
        if (count === landed.rows) return resumed(landed, count);
        // The job finished without the rows (it was cut off inside BigQuery): load afresh.
        log.warn('an earlier load job finished without its rows; loading again', { job: landed.id, expected: landed.rows, found: count });
        landed = undefined;
      }
      if (landed?.kind === 'merge') return resumed(landed, landed.rows);

      // A full load of a large table goes in key ranges, so that a crash costs one range.
      const chunking = incremental ? undefined : await chunkingKey(reader, task, shape, landed?.kind === 'chunk');
      if (chunking) {
        const result = await loadInChunks({
          bq,
          reader,
          task,
          shape,
          fields: schema.fields,
          key: chunking.key,
          estimatedRows: chunking.estimatedRows,
          prefix,
          prior,
          firstSeq: next,
          staging,
          target,
          workDir,
          gzip: bigquery.stagingCompression === 'gzip',
          checkValues: (encoder) => failOnInvalidValues(task, encoder, loaded.file),
        });
        await reader.close();
        Object.assign(outcome, result);
        outcome.rowsLoaded = await verifyCount(bq, task, result.rowsRead);
        await dropTable(bq, staging.dataset, staging.table);
        // The replacing statement takes the staging table's schema: put the descriptions back.
        await restoreDescriptions(bq, task.dataset, task.destination, shape.description, schema.fields);
        if (task.mode !== 'replace') outcome.cursorTo = await maxCursor(bq, target, shape.cursor!.bigQueryName);
        return outcome;
      }

      // Only a landed staging load is picked up here; anything else is read again.
      const stagedEarlier = landed?.kind === 'stage' && incremental ? landed : undefined;
      let rows = stagedEarlier?.rows ?? 0;
      if (!stagedEarlier) {
        let from: RowFilter | undefined;
        if (incremental && shape.cursor) {
          const max = await maxCursor(bq, target, shape.cursor.bigQueryName);
          if (max !== undefined) {
            from = { column: shape.cursor.source.name, from: cursorLowerBound(max, shape.cursor.bigQueryType, task.overlap) };
            outcome.cursorFrom = from.from;
          }
        }
        const staged = await extract(task, shape, reader, from, workDir, loaded.file, bigquery.stagingCompression === 'gzip');
        rows = staged.rows;
        Object.assign(outcome, { rowsRead: staged.rows, bytesStaged: staged.bytes, nulledValues: staged.nulledValues });
        const kind = incremental ? 'stage' : 'load';
        const id = jobId(prefix, kind, next, rows);
        heartbeat(kind, rows, staged.bytes);
        await submitLoad(bq, {
          dataset: incremental ? staging.dataset : task.dataset,
          table: incremental ? staging.table : task.destination,
          file: staged.file,
          schema: incremental ? shape.mappings.map(toField) : schema.fields,
          jobId: id,
          writeDisposition: 'WRITE_TRUNCATE',
          layout: incremental ? undefined : shape.layout,
        });
        crashPoint(incremental ? 'stage-submitted' : 'load-submitted');
        await awaitJob(bq, id, () => heartbeat(kind, rows, staged.bytes), ctx.cancellationSignal);
        if (!incremental) {
          outcome.rowsLoaded = await verifyCount(bq, task, rows);
          if (shape.description) await describeTable(bq, task.dataset, task.destination, shape.description, current?.description);
          if (task.mode !== 'replace') outcome.cursorTo = await maxCursor(bq, target, shape.cursor!.bigQueryName);
          return outcome;
        }
      } else {
        outcome.resumedJob = stagedEarlier.id;
        outcome.rowsRead = rows;
      }

      // Incremental: the staging table holds this run's rows; check them, then merge.
      const stagedRows = await countRows(bq, bigquery.project, staging.dataset, staging.table);
      if (stagedRows !== rows) throw countMismatch(task, rows, `${staging.dataset}.${staging.table}`, stagedRows);
      await followSchema(bq, task.dataset, task.destination, schema);
      const mergeId = jobId(prefix, 'merge', next + (stagedEarlier ? 0 : 1), rows);
      const sql = buildMergeSql({
        target,
        staging: `${bigquery.project}.${staging.dataset}.${staging.table}`,
        columns: shape.mappings.map((m) => m.bigQueryName),
        key: shape.key,
        mode: task.mode as 'append' | 'merge',
        deleteWhen: shape.deleteWhen && { column: shape.deleteWhen.bigQueryName, type: shape.deleteWhen.bigQueryType },
      });
      heartbeat('merge', rows);
      await submitQuery(bq, sql, mergeId);
      crashPoint('merge-submitted');
      await awaitJob(bq, mergeId, () => heartbeat('merge', rows), ctx.cancellationSignal);
      await dropTable(bq, staging.dataset, staging.table);
      outcome.rowsLoaded = stagedRows;
      outcome.cursorTo = await maxCursor(bq, target, shape.cursor!.bigQueryName);
      return outcome;
    } finally {
      await reader.close();
      await fs.rm(workDir, { recursive: true, force: true });
    }
  };
}

const toField = (m: TableShape['mappings'][number]): DestinationField => ({
  name: m.bigQueryName,
  type: m.bigQueryType,
  mode: 'NULLABLE',
  description: m.source.comment ? m.source.comment.slice(0, 1024) : undefined,
});

function planDestinationSchema(task: TableTask, shape: TableShape, existing: DestinationField[] | undefined): SchemaPlan {
  const plan = planSchema(existing, shape.mappings.map(toField), Boolean(task.fullRefresh));
  if (plan.incompatible.length > 0) {
    throw failure('SchemaDrift', `${task.key}: ${plan.incompatible.join('; ')} at the source, which BigQuery cannot widen in place. ` +
        `Run "bqsync sync ${task.key} --full-refresh" to rebuild ${task.dataset}.${task.destination} with the new type ` +
        `(check the queries that read the column first), or change the column back at the source`);
  }
  return plan;
}

/** The last job of earlier attempts that did not fail, once it has finished. */
async function lastLandedJob(bq: BigQuery, prior: PriorJob[], onWait: () => void): Promise<PriorJob | undefined> {
  const last = [...prior].reverse().find((j) => !j.error);
  if (!last) return undefined;
  try {
    await awaitJob(bq, last.id, onWait, Context.current().cancellationSignal);
    return last;
  } catch {
    Context.current().cancellationSignal.throwIfAborted();
    return undefined; // it failed after all: this attempt starts over
  }
}

async function extract(
  task: TableTask,
  shape: TableShape,
  reader: Awaited<ReturnType<typeof openSource>>,
  from: RowFilter | undefined,
  workDir: string,
  file: string,
  gzip: boolean,
) {
  const ctx = Context.current();
  const encoder = new RowEncoder(shape.mappings);
  const staged = path.join(workDir, gzip ? 'rows.json.gz' : 'rows.json');
  const result = await writeStagingFile(
    reader.streamRows(task.table, shape.mappings, from),
    encoder,
    staged,
    (p) => ctx.heartbeat({ phase: 'extract', rows: p.rows, bytes: p.bytes }),
    { gzip, signal: ctx.cancellationSignal },
  );
  await reader.close();
  failOnInvalidValues(task, encoder, file);
  return { file: staged, rows: result.rows, bytes: result.bytes, nulledValues: encoder.nulledValues };
}

/** With invalidValues: fail, values BigQuery cannot hold fail the table before anything is loaded. */
function failOnInvalidValues(task: TableTask, encoder: RowEncoder, file: string): void {
  const nulled = Object.entries(encoder.nulledValues);
  if (task.invalidValues !== 'fail' || nulled.length === 0) return;
  // Names and counts only: the values themselves may be personal data.
  throw failure('UnrepresentableValues', `${task.key}: values BigQuery cannot hold (zero dates, infinity, out-of-range years, NaN decimals): ` +
      nulled.map(([c, n]) => `column ${c}: ${n}`).join(', ') +
      `. Fix them at the source, or set invalidValues: null for the table in ${file} to load them as NULL`);
}

/**
 * The column to split a full load by: a single integer primary key, when the table has
 * more rows than `chunkRows` (or an earlier attempt already started in ranges).
 */
async function chunkingKey(
  reader: SourceReader,
  task: TableTask,
  shape: TableShape,
  resuming: boolean,
): Promise<{ key: ColumnMapping; estimatedRows: number } | undefined> {
  if (!task.chunkRows) return undefined;
  const key = await reader.primaryKey(task.table);
  const mapping = key.length === 1 ? shape.mappings.find((m) => m.bigQueryName === key[0]) : undefined;
  if (!mapping || mapping.transform || !['INT64', 'NUMERIC'].includes(mapping.bigQueryType) || mapping.source.scale) return undefined;
  const estimatedRows = await reader.estimateRows(task.table);
  return resuming || estimatedRows > task.chunkRows ? { key: mapping, estimatedRows } : undefined;
}

async function verifyCount(bq: BigQuery, task: TableTask, rows: number): Promise<number> {
  const loaded = await countRows(bq, bq.projectId, task.dataset, task.destination);
  if (loaded !== rows) throw countMismatch(task, rows, `${task.dataset}.${task.destination}`, loaded);
  return loaded;
}

function countMismatch(task: TableTask, read: number, table: string, holds: number): ApplicationFailure {
  return failure('RowCountMismatch', `${task.key}: read ${read} rows from the source but ${table} holds ${holds}; the load did not land every row. ` +
      'Re-run the table; if it repeats, compare the two by key');
}
