import { CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { Activities } from '../activities';
import { NON_RETRYABLE_TYPES } from '../common/failures';
import { tablePermits } from '../common/write-locks';
import { retryPolicy, TABLE_RETRY_DEFAULTS } from '../common/retry-settings';
import type { RangePlan, RangeResult, SnapshotRef, TableSyncInput, TableSyncOutcome } from '../common/payloads';

/** The source permits a table sync asks for: one per range it may read at once, within the source's concurrency. */
export function rangePermits(input: TableSyncInput): number {
  return tablePermits(input.task.parallelRanges, input.sourceConcurrency);
}

/**
 * The retries of a table sync's activities and of each of its ranges: the pipeline's
 * `retry:`, or for table syncs started before it existed the defaults it has.
 */
export function tableRetry(input: TableSyncInput): RetryPolicy {
  return retryPolicy(input.retry ?? TABLE_RETRY_DEFAULTS, NON_RETRYABLE_TYPES);
}

/**
 * Reads the planned key ranges as activities of their own, up to `atOnce` at a time (the
 * source permits the table sync holds), on whichever workers of the task queue take them,
 * then swaps the staging table in. When a range fails for good, no further range starts
 * and the ones running are awaited before the failure goes up, so that no range still
 * reads the source once the table sync has released its permits.
 */
export async function readInRanges(input: TableSyncInput, plan: RangePlan, atOnce: number): Promise<TableSyncOutcome> {
  const results = await readRanges(input, plan, atOnce);
  return swapRanges(input, plan, results, atOnce);
}

/**
 * Runs the ranges' reads and swap; when they fail or are cancelled, the ranges' staging
 * table and key boundaries are dropped before the failure goes up (abandonRanges), so that
 * a failed sync leaves nothing behind in the dataset.
 */
export async function abandoningOnFailure(input: TableSyncInput, plan: RangePlan, read: () => Promise<TableSyncOutcome>): Promise<TableSyncOutcome> {
  try {
    return await read();
  } catch (err) {
    const { abandonRanges } = proxyActivities<Activities>({
      startToCloseTimeout: '1 hour',
      heartbeatTimeout: (input.heartbeatTimeout ?? '2 minutes') as Duration,
      retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 3 },
      summary: `${input.task.key}: drop the failed sync's staging table`,
    });
    const since = workflowInfo().startTime.toISOString();
    // The tables expire in a day anyway: a cleanup that fails does not hide the sync's own failure.
    await CancellationScope.nonCancellable(() => abandonRanges({ task: input.task, plan: { staging: plan.staging, bounds: plan.bounds }, since }).catch(() => undefined));
    throw err;
  }
}

/** How a block range reads: in this shared snapshot, and only while `stop` says the snapshot is still held. */
export interface SharedRead {
  snapshot: SnapshotRef;
  stop: () => boolean;
}

/**
 * Each range's activity, up to `atOnce` at a time; its results in range order. With a
 * shared snapshot, no range starts once `stop` holds: the results then have gaps.
 */
export async function readRanges(input: TableSyncInput, plan: RangePlan, atOnce: number, shared?: SharedRead): Promise<RangeResult[]> {
  const { task } = input;
  const { ranges, ...rest } = plan;
  const count = ranges.length;
  const results: RangeResult[] = new Array(count);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failed && !shared?.stop() && next < count) {
      const index = next++;
      try {
        const range = ranges[index];
        const run = rangeActivity(input, plan, index, count);
        results[index] = await run(shared ? { task, plan: rest, index, count, range, snapshot: shared.snapshot } : { task, plan: rest, index, count, range });
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, count) }, lane));
  if (failed) throw failed.err;
  return results;
}

/** The last step: the staging table's count checked against the ranges', then swapped in. */
export async function swapRanges(input: TableSyncInput, plan: RangePlan, results: RangeResult[], atOnce: number): Promise<TableSyncOutcome> {
  const { task } = input;
  const { ranges, ...shared } = plan;
  const count = ranges.length;
  const { finishRanges } = proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: (input.heartbeatTimeout ?? '2 minutes') as Duration,
    retry: tableRetry(input),
    summary: `${task.key}: swap the ${count} ${plan.by === 'blocks' ? 'block' : 'key'} ranges into ${task.dataset}.${task.destination}, verify row count${task.verify === 'checksum' ? ' and content (checksums)' : ''}`,
  });
  return finishRanges({ task, plan: shared, results, rangesAtOnce: Math.min(atOnce, count) });
}

/** Each range's activity is shown in the Web UI with the table and which range it is. */
function rangeActivity(input: TableSyncInput, plan: RangePlan, index: number, count: number) {
  const { task } = input;
  return proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: (input.heartbeatTimeout ?? '2 minutes') as Duration,
    retry: tableRetry(input),
    summary: `${task.key}: ${plan.by === 'blocks' ? 'block' : 'key'} range ${index + 1} of ${count}, to ${task.dataset}.${task.destination}'s staging table`,
    // Ranges go through the task queue to whichever worker is free, never straight to the
    // worker that scheduled them (eager dispatch would give it several at once).
    allowEagerDispatch: false,
  }).syncRange;
}
