import type { TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import { ensureDataset } from '../../bigquery/client';
import { DestinationTable, destinationTable } from '../../bigquery/tables';
import { DestinationField, planSchema, SchemaPlan } from '../../bigquery/schema-drift';
import type { SourceConnection } from '../../sources/driver';
import { columnRulesChanged } from './column-rules-record';
import { describeShape, TableShape } from './shape';
import type { TableSync } from './sync-context';

/** What a sync works from: the table at the source, the destination as it is, how to load. */
export interface SyncPlan {
  shape: TableShape;
  /** The destination now; undefined when it does not exist yet. */
  destination?: DestinationTable;
  /** The schema to load with, and how it differs from the destination's. */
  schema: SchemaPlan;
  /** Only rows from the cursor on, merged or appended; otherwise the whole table is rewritten. */
  incremental: boolean;
  /** The destination was loaded under other column rules: it is rebuilt, so no clear value stays. */
  rulesChanged: boolean;
}

/**
 * The shape of the sync, before any row is read: a wrong column name, a table gone from the
 * source or a type change BigQuery cannot follow fails here.
 */
export async function planSync(sync: TableSync, reader: SourceConnection): Promise<SyncPlan> {
  const { bq, task } = sync;
  const shape = await describeShape(reader, task, sync.file);
  await ensureDataset(bq, task.dataset, sync.location);
  const destination = await destinationTable(bq, task.dataset, task.destination);
  const rulesChanged = columnRulesChanged(task, destination);
  const fullRefresh = Boolean(task.fullRefresh) || rulesChanged;
  const schema = planDestinationSchema(task, shape, destination?.fields, fullRefresh);
  // A first load, a full refresh and mode replace all rewrite the whole table.
  const incremental = task.mode !== 'replace' && !fullRefresh && destination !== undefined;
  return { shape, destination, schema, incremental, rulesChanged };
}

/** The source's columns as BigQuery fields; column comments become their descriptions. */
export function sourceFields(shape: TableShape): DestinationField[] {
  return shape.mappings.map((m) => ({
    name: m.bigQueryName,
    type: m.bigQueryType,
    mode: 'NULLABLE',
    description: m.source.comment ? m.source.comment.slice(0, 1024) : undefined,
  }));
}

function planDestinationSchema(task: TableTask, shape: TableShape, existing: DestinationField[] | undefined, fullRefresh: boolean): SchemaPlan {
  // A rebuild takes the source's schema as it is: an excluded column goes, a hashed one becomes STRING.
  const plan = planSchema(existing, sourceFields(shape), fullRefresh);
  if (plan.incompatible.length > 0) {
    throw failure('SchemaDrift', `${task.key}: ${plan.incompatible.join('; ')} at the source, which BigQuery cannot widen in place. ` +
        `Run "bqsync sync ${task.key} --full-refresh" to rebuild ${task.dataset}.${task.destination} with the new type ` +
        `(check the queries that read the column first), or change the column back at the source`);
  }
  return plan;
}
