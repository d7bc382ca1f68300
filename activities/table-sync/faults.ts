import { Context } from '@temporalio/activity';
import type { TableField } from '@google-cloud/bigquery';
import type { LoadedConfig } from '../../config/load';
import type { TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import { GOOGLE_BIGQUERY_ENDPOINT, isBigQueryUnreachable } from '../../bigquery/unreachable';
import { bigQueryReason, classifyBigQueryError, locateRejectedValue, refusedSqlHint } from '../../bigquery/errors';
import { BigQueryJobFailed } from '../../bigquery/jobs';
import { driverFor } from '../../sources/registry';
import { SourceConnectionLost } from '../../sources/connection-lost';
import { SourceSnapshotGone } from '../../sources/snapshot-gone';
import { SourceReadCancelled } from '../../sources/read-cancelled';
import { stagingSpaceFault } from './disk-full';

/**
 * A table sync's failure in the words an operator needs, and never with a row value in them
 * (the message reaches Temporal's history, the logs, the CLI and the webhook):
 * - faults of the world around the sync (a source connection cut, BigQuery out of reach or
 *   busy): one line that names the table and what was lost; retryable;
 * - rows BigQuery or the source refused: the column, its BigQuery type, the row and the
 *   fix (`RowsRejected`, not retried: the same rows fail the same way);
 * - other BigQuery and driver errors: their codes and value-free words.
 * `schema`: the columns loaded, when the sync got that far.
 */
export function readableFault(err: unknown, task: TableTask, loaded: LoadedConfig, schema: TableField[] = []): unknown {
  const attempt = Context.current().info.attempt;
  if (err instanceof SourceConnectionLost) {
    return failure('SourceConnectionLost', `${task.key}: the connection to source "${task.source}" was lost while reading the table (${err.reason}) in attempt ${attempt}. ` +
        (err.fix ?? "A retry reads the table again; if it repeats, the database server's log says who ended the connection"));
  }
  if (err instanceof SourceReadCancelled) return readCancelled(err, task, loaded, attempt);
  if (err instanceof SourceSnapshotGone) {
    return failure('SnapshotLost', `${task.key}: a block range could not read the table's shared snapshot (${err.reason}); ` +
        `no range reads another snapshot into the same staging table, so ${task.dataset}.${task.destination} was left as it was. ` +
        `Run the table again: it reads a new snapshot from the start`);
  }
  const space = stagingSpaceFault(err, task, attempt);
  if (space) return space;
  if (isBigQueryUnreachable(err)) {
    const endpoint = loaded.config.bigquery.endpoint ?? GOOGLE_BIGQUERY_ENDPOINT;
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    return failure('BigQueryUnreachable', `${task.key}: BigQuery was unreachable at ${endpoint} (${reason}) in attempt ${attempt}. ` +
        'A retry reuses the load jobs that landed; if it lasts, check the network path to BigQuery');
  }
  if (isBigQueryAnswer(err)) return bigQueryFault(err, task, loaded.file, schema, attempt);
  const source = loaded.config.sources[task.source];
  const driver = source && driverFor(source.type);
  const kind = driver?.classifyError(err);
  if (driver && (kind === 'data' || kind === 'bad-value')) {
    const said = driver.describeError(err);
    if (kind === 'bad-value') {
      return failure('RowsRejected', `${task.key}: source "${task.source}" (${driver.label}) refused a value while reading the table: ${said}. ` +
          `Fix the values at the source, or leave the column out with columns: { exclude: [...] } under sources.${task.source}.tables in ${loaded.file}; then bqsync sync ${task.key}`);
    }
    return new Error(`${task.key}: source "${task.source}" (${driver.label}) failed in attempt ${attempt}: ${said}`);
  }
  return err;
}

/** The source cancelled the read on purpose: retried; the message names the setting to change if it repeats. */
function readCancelled(err: SourceReadCancelled, task: TableTask, loaded: LoadedConfig, attempt: number): unknown {
  const onReplica = Boolean(loaded.config.sources[task.source]?.replica?.useFor.includes('read'));
  const where = onReplica ? `source "${task.source}" (its replica, sources.${task.source}.replica.url)` : `source "${task.source}"`;
  const shorter = err.shorterReads
    ? `; or read it in shorter key ranges: a lower chunkRows for ${task.key} under sources.${task.source}.tables in ${loaded.file} (full loads of a table with one integer key)`
    : '';
  return failure(
    'SourceReadCancelled',
    `${task.key}: ${where} cancelled the read of the table in attempt ${attempt} (${err.reason}). A retry reads the table again. If it repeats: ${err.fix}${shorter}`,
  );
}

/** A failed job, or BigQuery's error answer to a call (the client's ApiError carries `errors`). */
function isBigQueryAnswer(err: unknown): boolean {
  return err instanceof BigQueryJobFailed || (err instanceof Error && Array.isArray((err as { errors?: unknown }).errors));
}

function bigQueryFault(err: unknown, task: TableTask, file: string, schema: TableField[], attempt: number): unknown {
  const reason = bigQueryReason(err) ?? String((err as { code?: unknown }).code ?? 'unknown');
  const kind = classifyBigQueryError(err);
  if (kind === 'transient') {
    return failure('BigQueryBusy', `${task.key}: BigQuery answered ${reason} in attempt ${attempt}; a retry reuses the load jobs that landed`);
  }
  if (kind === 'rejected' && isLoad(err)) return rowsRejected(err, task, file, schema, reason);
  const job = err instanceof BigQueryJobFailed ? ` job ${err.jobId}` : '';
  return new Error(`${task.key}: BigQuery${job} failed (${reason}) in attempt ${attempt}: ${refusedSqlHint(err)}`);
}

/** A load job (a replace, a staging load or a key range), by its ID (job-ids.ts). */
function isLoad(err: unknown): boolean {
  return err instanceof BigQueryJobFailed && /_(load|stage|chunk)\d+_\d+r(_to[^_]+)?$/.test(err.jobId);
}

function rowsRejected(err: unknown, task: TableTask, file: string, schema: TableField[], reason: string): unknown {
  const at = locateRejectedValue(err, schema.map((f) => ({ name: f.name!, type: String(f.type) })));
  const type = at.column ? schema.find((f) => f.name === at.column)?.type : undefined;
  const where =
    (at.column ? `column ${at.column} (BigQuery ${type})` : 'a column BigQuery did not name') +
    (at.line !== undefined ? `, line ${at.line} of the staged file (row ${at.line} as read)` : '') +
    (at.position !== undefined ? `, the row at byte ${at.position} of the staged file` : '');
  const exclude = at.column ? `[${at.column}]` : '[<column>]';
  return failure(
    'RowsRejected',
    `${task.key}: BigQuery refused a value of ${where} (${reason}); values are not shown, they stay in the source and BigQuery. ` +
      `Check that column's values at the source against BigQuery's ${type ?? 'column type'}; fix them there, or leave the column out with ` +
      `columns: { exclude: ${exclude} } under sources.${task.source}.tables in ${file}; then bqsync sync ${task.key}`,
  );
}
