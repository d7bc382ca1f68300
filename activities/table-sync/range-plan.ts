import { createHash } from 'node:crypto';
import type { TableField } from '@google-cloud/bigquery';
import type { KeyRange, RangePlan, TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import type { SourceConnection } from '../../sources/driver';
import type { CursorRead } from './high-water';
import { Chunking, rangesToRead } from './key-ranges';
import type { SyncPlan } from './plan';
import { rangesStagingTable, TableSync } from './sync-context';
import { createStagingTable } from './writes';

/**
 * The first step of a full load read in ranges as activities of their own (the tableSync
 * workflow runs them, any worker takes them): the ranges, and the one staging table of the
 * sync that every range appends to, created here, empty, with its expiry. Runs before any
 * range does, so a retry of it finds no range's rows in that table. The ranges split an
 * integer key (key-ranges.ts), or the table's blocks (block-ranges.ts), which every range
 * reads in one shared snapshot.
 */
export async function planRanges(sync: TableSync, plan: SyncPlan, split: RangeSplit, cursor: CursorRead | undefined): Promise<RangePlan> {
  sync.staging = { dataset: sync.task.dataset, table: rangesStagingTable(sync.task.destination, sync.jobPrefix) };
  await createStagingTable(sync, plan.schema.fields);
  // Kept for the ranges and the finish: endStaging of this activity must not drop it.
  sync.usesStaging = false;
  return {
    kind: 'ranges',
    staging: sync.staging.table,
    column: split.column,
    ...(split.by === 'blocks' && { by: 'blocks' as const }),
    schema: schemaHash(plan.schema.fields),
    ranges: split.ranges,
    ...(cursor && { cursor: { nulls: cursor.nulls, ahead: cursor.ahead } }),
    ...(split.bounds && { bounds: split.bounds }),
  };
}

/** Ranges of an integer key column, or of the table's physical blocks. */
export interface RangeSplit {
  column: string;
  by?: 'blocks';
  ranges: KeyRange[];
  /** Ranges between boundary tuples kept in BigQuery (key-bounds.ts). */
  bounds?: RangePlan['bounds'];
}

/** The ranges of an integer key, from its span. */
export async function keySplit(reader: SourceConnection, task: TableTask, chunking: Chunking): Promise<RangeSplit> {
  return { column: chunking.key.source.name, ranges: await rangesToRead(reader, task, chunking) };
}

/** The schema a range loads with, as a hash: names, types and modes, in order. */
export function schemaHash(fields: TableField[]): string {
  const shape = fields.map((f) => [f.name, f.type, f.mode ?? 'NULLABLE']);
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

/**
 * A range or the finish plans the schema again from the source and the destination: when
 * it is not the one the plan loaded with (a column changed at the source meanwhile), the
 * staging table cannot take its rows; the destination is left as it was.
 */
export function checkSameSchema(sync: TableSync, plan: SyncPlan, planned: string): void {
  if (schemaHash(plan.schema.fields) === planned) return;
  throw failure('SchemaDrift', `${sync.task.key}: the source's columns changed while the table was read in ranges; ` +
      `${sync.task.dataset}.${sync.task.destination} was left as it was. Run the table again`);
}
