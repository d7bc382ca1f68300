import { log } from '@temporalio/activity';
import type { TableSyncOutcome } from '../../common/payloads';
import { maxCursor } from '../../bigquery/tables';
import { hasChanges } from '../../bigquery/schema-drift';
import type { Extracted } from './extract';
import { CursorRead, recordLanded } from './high-water';
import type { SyncPlan } from './plan';
import type { EarlierWork } from './resume';
import type { TableSync } from './sync-context';

/** What was loaded: by this attempt, or by an earlier one that landed it all. */
export type LoadedWork = Extracted | Extract<EarlierWork, { kind: 'done' }>;

/** The table's result, as `run --wait`, `status` and the Web UI show it. */
export async function report(sync: TableSync, plan: SyncPlan, work: LoadedWork, rowsLoaded: number, cursor?: CursorRead): Promise<TableSyncOutcome> {
  const outcome: TableSyncOutcome = { rowsRead: 0, rowsLoaded, bytesStaged: 0, nulledValues: {}, mode: sync.task.mode };
  if (hasChanges(plan.schema.changes)) outcome.schemaChanges = plan.schema.changes;
  if (plan.rulesChanged) outcome.rulesChanged = true;
  Object.assign(outcome, whatWasRead(work), cursorCounts(plan, cursor));
  if (outcome.nullUntilFullRefresh) {
    log.warn(`${sync.task.key}: new columns hold NULL in the rows this run did not read; run "bqsync sync ${sync.task.key} --full-refresh"`, {
      columns: outcome.nullUntilFullRefresh,
    });
  }
  await recordLanded(sync, cursor);
  // Read back from the destination, so that the cursor advances exactly when the rows do.
  if (sync.task.mode !== 'replace') outcome.cursorTo = await maxCursor(sync.bq, sync.target, plan.shape.cursor!.bigQueryName);
  return outcome;
}

/** What an incremental read could not take as usual, counted so that nothing is skipped unseen. */
function cursorCounts(plan: SyncPlan, cursor: CursorRead | undefined): Partial<TableSyncOutcome> {
  const counts: Partial<TableSyncOutcome> = {};
  if (cursor?.nulls) counts.cursorNulls = cursor.nulls;
  if (cursor?.ahead) counts.cursorAhead = cursor.ahead;
  // Rows the merge did not touch get NULL in a new column, even where the source has a DEFAULT.
  if (plan.incremental && plan.schema.changes.added.length > 0) counts.nullUntilFullRefresh = plan.schema.changes.added;
  return counts;
}

function whatWasRead(work: LoadedWork): Partial<TableSyncOutcome> {
  switch (work.kind) {
    case 'done':
    case 'staged':
      return { resumedJob: work.job.id, rowsRead: work.job.rows };
    case 'file':
      return { rowsRead: work.rows, bytesStaged: work.bytes, nulledValues: work.nulledValues, ...(work.cursorFrom !== undefined && { cursorFrom: work.cursorFrom }) };
    case 'ranges':
      return { rowsRead: work.rows, bytesStaged: work.bytes, nulledValues: work.nulledValues, chunks: work.chunks, chunksResumed: work.chunksResumed };
  }
}
