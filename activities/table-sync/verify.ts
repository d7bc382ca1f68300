import type { ApplicationFailure } from '@temporalio/common';
import type { TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import { countRows } from '../../bigquery/tables';
import type { TableSync } from './sync-context';

/**
 * The checks that fail a table rather than load it wrong: BigQuery's own count of what
 * landed against the rows read, and values BigQuery cannot hold when the table says so.
 * Messages carry names and counts only, never values.
 */

/** The destination holds exactly the rows read; returns its count. */
export async function verifyDestination(sync: TableSync, rows: number): Promise<number> {
  const { bq, task } = sync;
  const holds = await countRows(bq, bq.projectId, task.dataset, task.destination);
  if (holds !== rows) throw countMismatch(task, rows, `${task.dataset}.${task.destination}`, holds);
  return holds;
}

/** The staging table holds exactly the rows read, before they are merged; returns its count. */
export async function verifyStaging(sync: TableSync, rows: number): Promise<number> {
  const holds = await stagingRows(sync);
  if (holds !== rows) throw countMismatch(sync.task, rows, `${sync.staging.dataset}.${sync.staging.table}`, holds);
  return holds;
}

export async function stagingRows(sync: TableSync): Promise<number> {
  return countRows(sync.bq, sync.bq.projectId, sync.staging.dataset, sync.staging.table);
}

/** The key ranges' staging table does not hold what they read: the destination is not touched. */
export function rangesCountMismatch(sync: TableSync, read: number, holds: number): ApplicationFailure {
  const { task, staging } = sync;
  return failure('RowCountMismatch', `${task.key}: the key ranges read ${read} rows but ${staging.dataset}.${staging.table} holds ${holds}; ` +
      'the destination was left as it was. Re-run the table; if it repeats, report it with this message');
}

/** With invalidValues: fail, values BigQuery cannot hold fail the table before anything is loaded. */
export function failOnInvalidValues(task: TableTask, nulledValues: Record<string, number>, file: string): void {
  const nulled = Object.entries(nulledValues);
  if (task.invalidValues !== 'fail' || nulled.length === 0) return;
  // Names and counts only: the values themselves may be personal data.
  throw failure('UnrepresentableValues', `${task.key}: values BigQuery cannot hold (zero dates, infinity, out-of-range years, NaN decimals): ` +
      nulled.map(([c, n]) => `column ${c}: ${n}`).join(', ') +
      `. Fix them at the source, or set invalidValues: null for the table in ${file} to load them as NULL`);
}

function countMismatch(task: TableTask, read: number, table: string, holds: number): ApplicationFailure {
  return failure('RowCountMismatch', `${task.key}: read ${read} rows from the source but ${table} holds ${holds}; the load did not land every row. ` +
      'Re-run the table; if it repeats, compare the two by key');
}
