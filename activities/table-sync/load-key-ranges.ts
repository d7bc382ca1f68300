import { awaitJob } from '../../bigquery/jobs';
import { jobId } from '../../bigquery/job-ids';
import { buildReplaceSql } from '../../bigquery/replace-sql';
import { restoreDescriptions } from '../../bigquery/tables';
import { crashPoint } from './crash-point';
import type { StagedRanges } from './key-ranges';
import type { SyncPlan } from './plan';
import { queryJob } from './writes';
import type { TableShape } from './shape';
import type { TableSync } from './sync-context';
import { verifyDestination } from './verify';

/**
 * The key ranges are all in the staging table (key-ranges.ts): one CREATE OR REPLACE ...
 * AS SELECT replaces the destination at once, keeping its partitioning and clustering.
 * Returns the rows the destination holds.
 */
export async function replaceFromRanges(sync: TableSync, plan: SyncPlan, ranges: StagedRanges): Promise<number> {
  const { bq, task } = sync;
  const id = jobId(sync.jobPrefix, sync.attempt, 'swap', ranges.next, ranges.rows);
  await queryJob(sync, replaceSql(sync, plan.shape), id);
  crashPoint('swap-submitted');
  await awaitJob(bq, id, () => sync.heartbeat({ phase: 'load', rows: ranges.rows, bytes: ranges.bytes }), sync.signal);
  const rowsLoaded = await verifyDestination(sync, ranges.rows);
  // The replacing statement takes the staging table's schema: put the descriptions back.
  await restoreDescriptions(bq, task.dataset, task.destination, plan.shape.description, plan.schema.fields);
  return rowsLoaded;
}

function replaceSql(sync: TableSync, shape: TableShape): string {
  const { timePartitioning } = shape.layout;
  // Time partitions are spelt by the type of their column.
  const partition = timePartitioning ? shape.mappings.find((m) => m.bigQueryName === timePartitioning.field)?.bigQueryType : undefined;
  return buildReplaceSql(sync.target, `${sync.bq.projectId}.${sync.staging.dataset}.${sync.staging.table}`, shape.layout, partition);
}
