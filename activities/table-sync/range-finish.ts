import type { LoadedConfig } from '../../config/load';
import type { RangePlan, RangeResult, TableSyncOutcome, TableTask } from '../../common/payloads';
import { awaitJob, priorJobs } from '../../bigquery/jobs';
import { jobId } from '../../bigquery/job-ids';
import { markOfSync } from '../../bigquery/cursor-marks';
import { countRows, dropTable } from '../../bigquery/tables';
import { log } from '@temporalio/activity';
import { recordColumnRules } from './column-rules-record';
import { readableFault } from './faults';
import { dropBoundsTable } from './key-bounds';
import type { CursorRead } from './high-water';
import type { StagedRanges } from './key-ranges';
import { replaceFromRanges } from './load-key-ranges';
import { planSync, SyncPlan } from './plan';
import { checkSameSchema } from './range-plan';
import { report } from './report';
import { withSource } from './source-connection';
import type { StagingBudget } from './staging-budget';
import { endSync, startSync, TableSync } from './sync-context';
import { verifyAfterLoad } from './verify-content';
import { rangesCountMismatch, stagingRows } from './verify';

export interface FinishRangesInput {
  task: TableTask;
  plan: Omit<RangePlan, 'ranges'>;
  results: RangeResult[];
  rangesAtOnce: number;
}

/**
 * The last step of a full load read in key ranges: the staging table holds exactly the rows
 * the ranges read (BigQuery's count, else it fails with both figures and the destination is
 * left as it was), one CREATE OR REPLACE ... AS SELECT swaps it in (load-key-ranges.ts),
 * the destination's count is verified, then descriptions, column rules, the report, and the
 * staging table goes. A retry whose swap already landed does not swap again.
 */
export function makeFinishRanges(loaded: LoadedConfig, budget: StagingBudget) {
  return async function finishRanges(input: FinishRangesInput): Promise<TableSyncOutcome> {
    const sync = await startSync(loaded, input.task, budget);
    sync.staging = { dataset: input.task.dataset, table: input.plan.staging };
    let planned: SyncPlan | undefined;
    try {
      const outcome = await finish(loaded, sync, input, (p) => (planned = p));
      await dropRangesStaging(sync);
      await dropBoundsTable(sync, input.plan.bounds);
      return outcome;
    } catch (err) {
      throw readableFault(err, input.task, loaded, planned?.schema.fields);
    } finally {
      await endSync(sync);
    }
  };
}

async function finish(loaded: LoadedConfig, sync: TableSync, input: FinishRangesInput, onPlan: (p: SyncPlan) => void): Promise<TableSyncOutcome> {
  const { results } = input;
  const staged: StagedRanges = {
    rows: results.reduce((n, r) => n + r.rows, 0),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    nulledValues: sumNulled(results),
    chunks: results.length,
    chunksResumed: results.filter((r) => r.resumed).length,
    next: results.length + 1,
  };
  // The source for the shape only: no connection is held while BigQuery swaps.
  const plan = await withSource(loaded, input.task.source, async (reader) => {
    const plan = await planSync(sync, reader);
    onPlan(plan);
    checkSameSchema(sync, plan, input.plan.schema);
    return plan;
  });
  const rowsLoaded = (await swappedEarlier(sync, staged.rows)) ?? (await swapIn(sync, plan, staged));
  await recordColumnRules(sync, plan.destination);
  const outcome = await report(sync, plan, { kind: 'ranges', ...staged }, rowsLoaded, await cursorOf(sync, input.plan));
  outcome.rangesAtOnce = input.rangesAtOnce;
  outcome.rangeWorkers = [...new Set(results.map((r) => r.worker))].sort();
  if (input.plan.by === 'blocks') outcome.rangesBy = 'blocks';
  if (input.task.verify === 'checksum') {
    // Each range read in its own snapshot: the content is compared in a snapshot after the swap.
    outcome.content = await withSource(loaded, input.task.source, (reader) => verifyAfterLoad(sync, plan.shape.mappings, reader, false));
  }
  return outcome;
}

/** The staging table holds exactly what the ranges read, then the swap. */
async function swapIn(sync: TableSync, plan: SyncPlan, staged: StagedRanges): Promise<number> {
  const holds = await stagingRows(sync);
  if (holds !== staged.rows) throw rangesCountMismatch(sync, staged.rows, holds);
  return replaceFromRanges(sync, plan, staged);
}

/** An earlier attempt's swap landed when the destination holds its rows: not swapped again. */
async function swappedEarlier(sync: TableSync, rows: number): Promise<number | undefined> {
  if (sync.attempt === 1) return undefined;
  const prior = await priorJobs(sync.bq, sync.jobPrefix, sync.scheduledAt);
  for (const job of prior.filter((j) => j.kind === 'swap' && !j.error && j.rows === rows)) {
    try {
      await awaitJob(sync.bq, job.id, () => sync.heartbeat({ phase: 'resume', rows: 0, bytes: 0 }), sync.signal);
    } catch {
      sync.signal.throwIfAborted();
      continue;
    }
    const { bq, task } = sync;
    if ((await countRows(bq, bq.projectId, task.dataset, task.destination)) === rows) return rows;
  }
  return undefined;
}

/** The cursor as the plan read it: its mark was recorded in BigQuery then, under this sync's ID. */
async function cursorOf(sync: TableSync, plan: FinishRangesInput['plan']): Promise<CursorRead | undefined> {
  if (!plan.cursor) return undefined;
  const highWater = await markOfSync(sync.bq, sync.task.dataset, sync.task.destination, sync.jobPrefix);
  return { highWater, nulls: plan.cursor.nulls, ahead: plan.cursor.ahead };
}

async function dropRangesStaging(sync: TableSync): Promise<void> {
  try {
    await sync.current.ensureCurrent('dropping its staging table');
    await dropTable(sync.bq, sync.staging.dataset, sync.staging.table);
  } catch (err) {
    log.warn('staging table left to its expiry', { table: `${sync.staging.dataset}.${sync.staging.table}`, error: (err as Error).message });
  }
}

function sumNulled(results: RangeResult[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const r of results) for (const [c, n] of Object.entries(r.nulledValues)) total[c] = (total[c] ?? 0) + n;
  return total;
}
