import { awaitJob } from '../../bigquery/jobs';
import { jobId } from '../../bigquery/job-ids';
import { describeTable } from '../../bigquery/tables';
import { crashPoint } from './crash-point';
import type { StagedFile } from './extract';
import type { SyncPlan } from './plan';
import { loadJob } from './writes';
import type { TableSync } from './sync-context';
import { verifyDestination } from './verify';

/**
 * Replaces the whole table with one WRITE_TRUNCATE load of the staged file: atomic, so
 * readers see the old rows or the new ones, and the table keeps its grants. Returns the
 * rows the destination holds.
 */
export async function loadReplace(sync: TableSync, plan: SyncPlan, staged: StagedFile): Promise<number> {
  const { bq, task } = sync;
  const id = jobId(sync.jobPrefix, sync.attempt, 'load', staged.next, staged.rows);
  const progress = { phase: 'load', rows: staged.rows, bytes: staged.bytes };
  sync.heartbeat(progress);
  await loadJob(sync, {
    dataset: task.dataset,
    table: task.destination,
    file: staged.file,
    schema: plan.schema.fields,
    jobId: id,
    writeDisposition: 'WRITE_TRUNCATE',
    layout: plan.shape.layout,
  });
  crashPoint('load-submitted');
  await awaitJob(bq, id, () => sync.heartbeat(progress), sync.signal);
  const rowsLoaded = await verifyDestination(sync, staged.rows);
  const { description } = plan.shape;
  if (description) await describeTable(bq, task.dataset, task.destination, description, plan.destination?.description);
  return rowsLoaded;
}
