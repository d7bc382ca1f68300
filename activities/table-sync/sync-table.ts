import { log } from '@temporalio/activity';
import type { LoadedConfig } from '../../config/load';
import type { RangePlan, TableSyncOutcome, TableTask } from '../../common/payloads';
import { recordColumnRules } from './column-rules-record';
import { extract } from './extract';
import { readableFault } from './faults';
import { startCursorRead } from './high-water';
import { loadIncremental, mergeStaged } from './load-incremental';
import { replaceFromRanges } from './load-key-ranges';
import { loadReplace } from './load-replace';
import { boundsChunking, planBoundRanges } from './key-bounds';
import { planSync, SyncPlan } from './plan';
import { chunkingKey } from './key-ranges';
import { keySplit, planRanges } from './range-plan';
import { blockSplit } from './block-ranges';
import { LoadedWork, report } from './report';
import { resumeEarlierAttempt } from './resume';
import { withSource } from './source-connection';
import { verifyAfterLoad } from './verify-content';
import { StagingBudget } from './staging-budget';
import { endSync, startSync, TableSync } from './sync-context';
import { endStaging } from './writes';

/**
 * Syncs one table, in stages:
 *   plan      the source's shape and the destination's schema (plan.ts, shape.ts)
 *   resume    what an earlier attempt landed, found by its job IDs (resume.ts)
 *   extract   rows to a staged file, or key ranges to the staging table (extract.ts, key-ranges.ts)
 *   load      by mode: replace, incremental merge or append, key ranges (load-*.ts)
 *   verify    BigQuery's row count against the rows read, inside each load (verify.ts);
 *             with verify: checksum, the content too, after the load (verify-content.ts)
 *   report    the table's result (report.ts)
 * One activity on purpose: the staged file lives on this worker's disk.
 *
 * With `ranges: 'plan'` (the tableSync workflow's), a full load of a table over `chunkRows`
 * is not read here: the activity returns the plan of its key ranges (range-plan.ts), which
 * the workflow hands to activities of their own (range-read.ts, range-finish.ts).
 */
export function makeSyncTable(loaded: LoadedConfig, budget: StagingBudget = new StagingBudget()) {
  return async function syncTable(task: TableTask, options: SyncTableOptions = {}): Promise<TableSyncOutcome | RangePlan> {
    let planned: SyncPlan | undefined;
    try {
      return await syncOnce(loaded, task, budget, (plan) => (planned = plan), options);
    } catch (err) {
      // The planned columns let a refused load name the column and its BigQuery type.
      throw readableFault(err, task, loaded, planned?.schema.fields);
    }
  };
}

export interface SyncTableOptions {
  /** 'plan': a table read in key ranges returns their plan instead of reading them here. */
  ranges?: 'plan';
  /**
   * With 'plan': a table without an integer leading key column may be planned in block
   * ranges read in one shared snapshot (block-ranges.ts); set by workflows that run them.
   */
  blocks?: boolean;
  /**
   * The source permits the table sync holds (its ranges at once). Block ranges need two, one
   * for the snapshot's holder; with fewer the result says why the table was read in one piece.
   * Absent (workflows that sent `blocks` only with two or more): 2.
   */
  permits?: number;
}

async function syncOnce(
  loaded: LoadedConfig,
  task: TableTask,
  budget: StagingBudget,
  onPlan: (plan: SyncPlan) => void,
  options: SyncTableOptions,
): Promise<TableSyncOutcome | RangePlan> {
  const sync = await startSync(loaded, task, budget);
  try {
    // The source connection is open for these three stages only (source-connection.ts), and
    // with verify: checksum until the content is verified, in the snapshot the rows were read in.
    const checksum = task.verify === 'checksum';
    let onePiece: string | undefined;
    const read = await withSource(loaded, task.source, async (reader) => {
      const plan = await planSync(sync, reader);
      onPlan(plan);
      // Before any row is read: the next run's bound must not be later than this moment.
      const cursor = await startCursorRead(sync, reader, plan);
      const earlier = await resumeEarlierAttempt(sync, plan);
      if (options.ranges === 'plan' && earlier.kind === 'fresh' && !plan.incremental) {
        // A key led by a UUID, a code, a date...: ranges between boundary tuples kept in BigQuery.
        const byBounds = await boundsChunking(reader, task, plan.shape);
        const boundRanges = byBounds && (await planBoundRanges(sync, reader, plan, byBounds, cursor));
        if (boundRanges) return { ranges: boundRanges };
        const chunking = await chunkingKey(reader, task, plan.shape, false);
        if (chunking) return { ranges: await planRanges(sync, plan, await keySplit(reader, task, chunking), cursor) };
        const blocks = options.blocks ? await blockSplit(reader, task, options.permits) : undefined;
        if (blocks && 'ranges' in blocks) return { ranges: await planRanges(sync, plan, { column: '', by: 'blocks', ranges: blocks.ranges }, cursor) };
        onePiece = blocks?.onePiece;
        if (onePiece) log.warn(`${task.key}: ${onePiece}`);
      }
      const work: LoadedWork = earlier.kind === 'done' ? earlier : await extract(sync, reader, plan, earlier, cursor);
      if (!checksum) return { plan, cursor, work, loadedRows: undefined, content: undefined };
      const loadedRows = await loadByMode(sync, plan, work);
      const content = await verifyAfterLoad(sync, plan.shape.mappings, reader, work.kind === 'file');
      return { plan, cursor, work, loadedRows, content };
    });
    // The ranges' staging table stays for them: no endStaging.
    if (read.ranges) return read.ranges;
    const { plan, cursor, work, loadedRows, content } = read;
    const rowsLoaded = loadedRows ?? (await loadByMode(sync, plan, work));
    await recordColumnRules(sync, plan.destination);
    const outcome = await report(sync, plan, work, rowsLoaded, cursor);
    if (content) outcome.content = content;
    if (onePiece) outcome.onePiece = onePiece;
    await endStaging(sync);
    return outcome;
  } catch (err) {
    await endStaging(sync, err);
    throw err;
  } finally {
    await endSync(sync);
  }
}

/** Gets the extracted rows into the destination; returns the rows it holds (or merged). */
async function loadByMode(sync: TableSync, plan: SyncPlan, work: LoadedWork): Promise<number> {
  switch (work.kind) {
    case 'done':
      return work.rowsLoaded; // an earlier attempt landed them
    case 'staged':
      return mergeStaged(sync, plan, work.job.rows, work.next);
    case 'ranges':
      return replaceFromRanges(sync, plan, work);
    case 'file':
      return plan.incremental ? loadIncremental(sync, plan, work) : loadReplace(sync, plan, work);
  }
}
