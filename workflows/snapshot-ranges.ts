import { ActivityCancellationType, ApplicationFailure, CancellationScope, condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { durationMs } from '../common/duration';
import { HOLDER_HEARTBEAT_TIMEOUT_MS, SNAPSHOT_SIGNAL } from '../common/snapshot-signal';
import type { RangePlan, SnapshotRef, TableSyncInput, TableSyncOutcome } from '../common/payloads';
import { readRanges, swapRanges } from './parallel-ranges';

const snapshotSignal = defineSignal<[SnapshotRef]>(SNAPSHOT_SIGNAL);

/**
 * Reads a table's block ranges (activities/table-sync/block-ranges.ts), all in one snapshot:
 * a holding activity exports it and signals its ID here, the ranges read in it, up to
 * `atOnce` at a time, and once the last range has read, the holder is cancelled (its
 * transaction ends, its connection closes) before the staging table is swapped in.
 * The holder's connection is one of the table sync's permits: `atOnce` is one less.
 *
 * When the snapshot is lost before every range has read in it (the holder failed, its
 * worker died, its connection was killed), no further range starts, the running ones end,
 * and the table sync fails with SnapshotLost: the staging table is never swapped in, so the
 * destination stays as it was until a later run reads every range in a new snapshot.
 */
export async function readInSnapshot(input: TableSyncInput, plan: RangePlan, atOnce: number): Promise<TableSyncOutcome> {
  const { task } = input;
  let snapshot: SnapshotRef | undefined;
  setHandler(snapshotSignal, (s) => {
    snapshot ??= s;
  });
  const { holdSnapshot } = proxyActivities<Activities>({
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: holderHeartbeatTimeout(input),
    // Another attempt would export another snapshot: the ranges must not mix two.
    retry: { maximumAttempts: 1 },
    // Its transaction has ended before the permits of the table sync are released.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: `${task.key}: hold the snapshot the ${plan.ranges.length} block ranges read`,
  });
  const holder = new CancellationScope();
  let released = false;
  let lost: { err: unknown } | undefined;
  const holding = holder.run(() => holdSnapshot(task)).then(
    () => {
      lost ??= { err: undefined };
    },
    (err) => {
      if (!released) lost ??= { err };
    },
  );
  let results;
  try {
    await condition(() => snapshot !== undefined || lost !== undefined);
    if (!snapshot) throw snapshotLost(input, lost?.err);
    results = await readRanges(input, plan, atOnce, { snapshot, stop: () => lost !== undefined });
  } finally {
    released = true;
    holder.cancel();
    await holding;
  }
  // A range that started has read in the snapshot; one that did not must not read another.
  if (results.filter((r) => r !== undefined).length < plan.ranges.length) throw snapshotLost(input, lost?.err);
  return swapRanges(input, plan, results, atOnce);
}

function snapshotLost(input: TableSyncInput, err: unknown): ApplicationFailure {
  const { task } = input;
  const cause = (err as { cause?: Error })?.cause ?? (err as Error | undefined);
  const why = cause?.message ? `: ${cause.message}` : '';
  return ApplicationFailure.nonRetryable(
    `${task.key}: the shared snapshot of the table's block ranges was lost before every range had read it${why}. ` +
      `${task.dataset}.${task.destination} was left as it was; run the table again to read it in a new snapshot`,
    'SnapshotLost',
  );
}

/** Short, so that a dead holder is noticed soon: 20 s, or the pipeline's heartbeat timeout if shorter. */
function holderHeartbeatTimeout(input: TableSyncInput): number {
  let pipeline = HOLDER_HEARTBEAT_TIMEOUT_MS;
  try {
    pipeline = durationMs(input.heartbeatTimeout ?? '2m');
  } catch {
    // validated by the config schema; a value it let through cannot lengthen the holder's
  }
  return Math.min(HOLDER_HEARTBEAT_TIMEOUT_MS, pipeline);
}
