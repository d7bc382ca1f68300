import { awaitJob } from '../../bigquery/jobs';
import { jobId } from '../../bigquery/job-ids';
import { buildMergeSql } from '../../bigquery/merge-sql';
import { followSchema } from '../../bigquery/tables';
import { crashPoint } from './crash-point';
import type { StagedFile } from './extract';
import { sourceFields, SyncPlan } from './plan';
import { createStagingTable, loadJob, queryJob } from './writes';
import type { TableSync } from './sync-context';
import { verifyStaging } from './verify';

/**
 * append and merge: the staged rows go to a staging table first, then one MERGE applies
 * them. Returns the rows merged.
 */
export async function loadIncremental(sync: TableSync, plan: SyncPlan, staged: StagedFile): Promise<number> {
  const { bq, staging } = sync;
  const id = jobId(sync.jobPrefix, sync.attempt, 'stage', staged.next, staged.rows);
  const progress = { phase: 'stage', rows: staged.rows, bytes: staged.bytes };
  sync.heartbeat(progress);
  const schema = sourceFields(plan.shape);
  await createStagingTable(sync, schema);
  await loadJob(sync, {
    dataset: staging.dataset,
    table: staging.table,
    file: staged.file,
    schema,
    jobId: id,
    writeDisposition: 'WRITE_TRUNCATE',
  });
  crashPoint('stage-submitted');
  await awaitJob(bq, id, () => sync.heartbeat(progress), sync.signal);
  return mergeStaged(sync, plan, staged.rows, staged.next + 1);
}

/**
 * One MERGE from the staging table into the destination, once the staging table holds
 * every row read and the destination has the source's columns: atomic, and harmless to run
 * twice, so a retry or the overlap's re-read rows never add a duplicate. `n` numbers its job.
 * The staging table is dropped when the sync ends (sync-table.ts).
 */
export async function mergeStaged(sync: TableSync, plan: SyncPlan, rows: number, n: number): Promise<number> {
  const { bq, task } = sync;
  const stagedRows = await verifyStaging(sync, rows);
  await followSchema(bq, task.dataset, task.destination, plan.schema);
  const id = jobId(sync.jobPrefix, sync.attempt, 'merge', n, rows);
  const sql = mergeSql(sync, plan);
  sync.heartbeat({ phase: 'merge', rows, bytes: 0 });
  await queryJob(sync, sql, id);
  crashPoint('merge-submitted');
  await awaitJob(bq, id, () => sync.heartbeat({ phase: 'merge', rows, bytes: 0 }), sync.signal);
  return stagedRows;
}

function mergeSql(sync: TableSync, { shape }: SyncPlan): string {
  return buildMergeSql({
    target: sync.target,
    staging: `${sync.bq.projectId}.${sync.staging.dataset}.${sync.staging.table}`,
    columns: shape.mappings.map((m) => m.bigQueryName),
    key: shape.key,
    mode: sync.task.mode as 'append' | 'merge',
    deleteWhen: shape.deleteWhen && { column: shape.deleteWhen.bigQueryName, type: shape.deleteWhen.bigQueryType },
  });
}
