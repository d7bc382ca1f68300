import type { LoadedConfig } from '../config/load';
import { makeNotifyFailure, makeNotifyLate } from './notify';
import { makePlanRun } from './plan-run';
import { makeRunStep } from './run-step';
import { StagingBudget } from './table-sync/staging-budget';
import { setEncodeThreads } from './table-sync/encode-pool';
import { makeSyncTable } from './table-sync/sync-table';
import { makeSyncRange } from './table-sync/range-read';
import { makeFinishRanges } from './table-sync/range-finish';
import { makeAbandonRanges } from './table-sync/range-abandon';
import { makeHoldSnapshot } from './table-sync/snapshot-holder';
import { makeWriteLockActivities } from './write-locks';
import { awaitTableSync } from './await-table-sync';
import { awaitPipelineTables } from './await-pipeline-tables';

export { closeEncodeThreads, defaultEncodeThreads } from './table-sync/encode-pool';

/**
 * The activities a worker registers; they read the config the worker was started with.
 * `stagingBudgetBytes`: at most this many bytes of staged files at once on the worker;
 * `encodeThreads`: threads that encode row text (0 or absent: the main thread encodes).
 */
export function createActivities(loaded: LoadedConfig, options: { stagingBudgetBytes?: number; encodeThreads?: number } = {}) {
  // One budget for every file this worker stages, whole tables and key ranges alike.
  const budget = new StagingBudget(options.stagingBudgetBytes);
  setEncodeThreads(options.encodeThreads ?? 0);
  return {
    planRun: makePlanRun(loaded),
    syncTable: makeSyncTable(loaded, budget),
    syncRange: makeSyncRange(loaded, budget),
    finishRanges: makeFinishRanges(loaded, budget),
    abandonRanges: makeAbandonRanges(loaded, budget),
    holdSnapshot: makeHoldSnapshot(loaded),
    runStep: makeRunStep(loaded),
    notifyFailure: makeNotifyFailure(loaded),
    notifyLate: makeNotifyLate(loaded),
    ...makeWriteLockActivities(loaded),
    awaitTableSync,
    awaitPipelineTables,
  };
}

export type Activities = ReturnType<typeof createActivities>;
