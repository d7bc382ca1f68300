import { ensureMarksTable, markOfSync, marksSinceLastLanded, recordMark } from '../../bigquery/cursor-marks';
import { maxCursor } from '../../bigquery/tables';
import type { RowFilter, SourceConnection } from '../../sources/driver';
import { earliestCursor, highWaterMark, nextLowerBound } from './cursor';
import type { SyncPlan } from './plan';
import type { TableSync } from './sync-context';

/** An append or merge table's cursor at the source, taken before this sync reads a row. */
export interface CursorRead {
  /** Stored with the load for the next run's bound (cursor.ts highWaterMark). */
  highWater?: string;
  /** The source's clock (time cursors). */
  now?: string;
  /** Rows whose cursor is NULL: read on every incremental run. */
  nulls: number;
  /** Rows dated after the source's clock: they do not move the bound, and are read on every run. */
  ahead: number;
}

/**
 * Reads the cursor's state at the source and records the high-water mark before any row is
 * read. A retry keeps the mark its first attempt recorded: the rows that attempt staged
 * (a key range, a staged file) were read as of then.
 */
export async function startCursorRead(sync: TableSync, reader: SourceConnection, plan: SyncPlan): Promise<CursorRead | undefined> {
  const cursor = plan.shape.cursor;
  if (sync.task.mode === 'replace' || !cursor) return undefined;
  const type = cursor.bigQueryType;
  const stats = await reader.cursorStats(sync.task.table, cursor.source.name, type !== 'INT64');
  const mark = { table: sync.task.destination, sync: sync.jobPrefix };
  await ensureMarksTable(sync.bq, sync.task.dataset);
  const earlier = sync.attempt > 1 ? await markOfSync(sync.bq, sync.task.dataset, mark.table, mark.sync) : undefined;
  const highWater = earlier ?? highWaterMark(stats, type);
  if (earlier === undefined && highWater !== undefined) {
    await recordMark(sync.bq, sync.task.dataset, { ...mark, event: 'read', highWater });
  }
  return { highWater, now: stats.now, nulls: stats.nulls, ahead: stats.ahead };
}

/**
 * The rows an incremental run reads: from the bound (cursor.ts nextLowerBound) on, and every
 * row whose cursor is NULL, which a `>=` never selects. Every row when the destination holds
 * no cursor value.
 */
export async function incrementalFilter(sync: TableSync, plan: SyncPlan, read: CursorRead): Promise<RowFilter | undefined> {
  const cursor = plan.shape.cursor!; // every incremental shape has one (shape.ts)
  const type = cursor.bigQueryType;
  const destinationMax = await maxCursor(sync.bq, sync.target, cursor.bigQueryName);
  const marks = await marksSinceLastLanded(sync.bq, sync.task.dataset, sync.task.destination);
  const from = nextLowerBound({ type, overlap: sync.task.overlap, destinationMax, mark: earliestCursor(marks, type), sourceNow: read.now });
  return from === undefined ? undefined : { column: cursor.source.name, from, orNull: true };
}

/** Once the rows are in the destination: the next run may read from this sync's mark. */
export async function recordLanded(sync: TableSync, read: CursorRead | undefined): Promise<void> {
  if (read?.highWater === undefined) return;
  const mark = { table: sync.task.destination, sync: sync.jobPrefix, event: 'landed' as const, highWater: read.highWater };
  await recordMark(sync.bq, sync.task.dataset, mark);
}
