import { ActivityFailure, ApplicationFailure, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { searchAttributes } from '../common/search-attributes';
import type { TableSyncInput, TableSyncOutcome } from '../common/payloads';
import { withWriteLock } from './write-lock-client';
import { abandoningOnFailure, rangePermits, readInRanges, tableRetry } from './parallel-ranges';
import { readInSnapshot } from './snapshot-ranges';

/**
 * One table's sync, as its own workflow so that each table has a readable ID, its own
 * search attributes and its own red or green state in the Web UI.
 */
export async function tableSync(input: TableSyncInput): Promise<TableSyncOutcome> {
  const { syncTable } = proxyActivities<Activities>({
    // A large table may take hours; a dead worker is noticed through missed heartbeats.
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: (input.heartbeatTimeout ?? '2 minutes') as Duration,
    retry: tableRetry(input),
    summary: `${input.task.fullRefresh ? 'full refresh' : input.task.mode}: extract ${input.task.key}, load ${input.task.dataset}.${input.task.destination}, verify row count${input.task.verify === 'checksum' ? ' and content (checksums)' : ''}`,
  });
  try {
    // A full load over chunkRows goes in key ranges, each an activity any worker can take.
    // (Table syncs that an older worker began replay reading them inside syncTable.)
    const inRanges = patched('parallel-ranges');
    const permits = inRanges ? rangePermits(input) : 1;
    const sync = async (): Promise<TableSyncOutcome> => {
      if (!inRanges) return (await syncTable(input.task)) as TableSyncOutcome;
      // A table without an integer key may go in block ranges of one snapshot, whose holder
      // takes one of the permits; with one permit the result says why it was read in one
      // piece. (Table syncs begun by an older worker replay without.)
      const blocks = patched('snapshot-ranges');
      const done = await syncTable(input.task, blocks ? { ranges: 'plan', blocks, permits } : { ranges: 'plan' });
      if (!('kind' in done)) return done;
      const read = () => (done.by === 'blocks' ? readInSnapshot(input, done, permits - 1) : readInRanges(input, done, permits));
      // (Table syncs begun by an older worker replay leaving the staging table to its expiry.)
      return patched('abandon-ranges') ? abandoningOnFailure(input, done, read) : read();
    };
    // One writer per BigQuery table, and the source's concurrency across every run.
    // (Table syncs that an older worker began replay without the lock.)
    const outcome = patched('write-lock') ? await withWriteLock(input, sync, permits) : await sync();
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: 'succeeded' }]);
    return outcome;
  } catch (err) {
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: 'failed' }]);
    // Surface the activity's own message and type, not the wrapper's "Activity task failed".
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure) {
      throw ApplicationFailure.create({ message: cause.message, type: cause.type ?? 'Error', nonRetryable: true });
    }
    const message = cause instanceof Error ? cause.message : String(cause);
    throw ApplicationFailure.create({ message, type: 'Error', nonRetryable: true });
  }
}
