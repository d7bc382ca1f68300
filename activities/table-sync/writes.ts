import type { TableField } from '@google-cloud/bigquery';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NON_RETRYABLE_TYPES } from '../../common/failures';
import { LoadRequest, submitLoad, submitQuery } from '../../bigquery/jobs';
import { createExpiringTable, dropTable } from '../../bigquery/tables';
import { stagingTable, TableSync } from './sync-context';

/**
 * Every write a table sync makes in BigQuery goes through here, and each first makes sure
 * that this attempt is still the one Temporal runs (attempt.ts): an attempt that was
 * superseded submits no job and creates or drops no staging table.
 */

/** Staging tables expire after a day: BigQuery deletes one that no attempt dropped. */
export const STAGING_EXPIRY_MS = 24 * 3600 * 1000;

/** A load job; a long upload is checked again before its last bytes, which create the job. */
export async function loadJob(sync: TableSync, req: LoadRequest): Promise<void> {
  const what = `its load job ${req.jobId}`;
  await sync.current.ensureCurrent(what);
  await submitLoad(sync.bq, req, { beforeCommit: () => sync.current.ensureCurrent(what), signal: sync.signal });
}

export async function queryJob(sync: TableSync, sql: string, jobId: string): Promise<void> {
  await sync.current.ensureCurrent(`its query job ${jobId}`);
  await submitQuery(sync.bq, sql, jobId);
}

/** This attempt's staging table, empty, with its expiry, before its first load. */
export async function createStagingTable(sync: TableSync, fields: TableField[]): Promise<void> {
  const { dataset, table } = sync.staging;
  await sync.current.ensureCurrent(`creating ${dataset}.${table}`);
  sync.usesStaging = true;
  await createExpiringTable(sync.bq, dataset, table, fields, STAGING_EXPIRY_MS);
}

/**
 * When the sync ends, succeeded or failed, its staging tables go. Kept only for a retry that
 * Temporal will make and that resumes from them (a retryable failure after rows were staged);
 * that retry drops them when it ends. A superseded attempt leaves them to the current one.
 * Attempts after the first also drop what earlier ones left (a worker killed mid-sync).
 */
export async function endStaging(sync: TableSync, failed?: unknown): Promise<void> {
  if (!sync.usesStaging && sync.attempt === 1) return;
  if (failed !== undefined && isRetryable(failed) && sync.current.retriesLeft()) return;
  try {
    await dropStagingTables(sync);
  } catch (err) {
    // Superseded, or BigQuery out of reach: the tables' expiry removes what is left.
    log.warn('staging tables left to their expiry', { error: (err as Error).message });
  }
}

function isRetryable(err: unknown): boolean {
  if (!(err instanceof ApplicationFailure)) return true;
  if (err.type === 'AttemptSuperseded') return true; // never touch what the current attempt uses
  return !err.nonRetryable && !NON_RETRYABLE_TYPES.includes(err.type as (typeof NON_RETRYABLE_TYPES)[number]);
}

/**
 * Drops the staging tables of every attempt of the sync so far, and the one this attempt
 * took over: once the current attempt ends, no other attempt may use them. A drop that
 * fails is logged; the table's expiry removes it.
 */
export async function dropStagingTables(sync: TableSync): Promise<void> {
  const { dataset } = sync.staging;
  const tables = new Set([sync.staging.table]);
  for (let a = 1; a <= sync.attempt; a++) tables.add(stagingTable(sync.task.destination, sync.jobPrefix, a));
  await sync.current.ensureCurrent('dropping its staging tables');
  for (const table of tables) {
    try {
      await dropTable(sync.bq, dataset, table);
    } catch (err) {
      log.warn('could not drop a staging table; it expires by itself', { table: `${dataset}.${table}`, error: (err as Error).message });
    }
  }
}
