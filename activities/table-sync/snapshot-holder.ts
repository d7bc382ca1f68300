import { Context } from '@temporalio/activity';
import type { LoadedConfig } from '../../config/load';
import type { TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import { SNAPSHOT_SIGNAL } from '../../common/snapshot-signal';
import { openSource } from '../../sources/open-source';

/**
 * The session whose snapshot every block range of a table reads (block-ranges.ts): it opens
 * a read-only repeatable-read transaction with the reads' settings, exports its snapshot,
 * signals the ID to its own table sync workflow, and holds the transaction open, checking
 * it and heartbeating, until the workflow cancels it after the last range; then it ends the
 * transaction and closes. If the session ends first (the worker died, the connection was
 * killed), this activity fails (or stops heartbeating): the workflow starts no further range.
 * A snapshot, once a range imported it, stays that range's own, so the ranges running then
 * finish in it.
 */
export function makeHoldSnapshot(loaded: LoadedConfig) {
  return async function holdSnapshot(task: TableTask): Promise<void> {
    const ctx = Context.current();
    const execution = ctx.info.workflowExecution;
    if (!execution) throw new Error('holdSnapshot runs for a table sync workflow only');
    const reader = await openSource(loaded, task.source, 'read');
    try {
      const shared = reader.sharedSnapshots;
      if (!shared) throw new Error(`source "${task.source}" cannot share a snapshot between sessions`);
      const snapshot = await shared.exportSnapshot();
      await ctx.client.workflow.getHandle(execution.workflowId, execution.runId).signal(SNAPSHOT_SIGNAL, snapshot);
      const every = Math.max(250, Math.min(5_000, (ctx.info.heartbeatTimeoutMs ?? 20_000) / 4));
      for (;;) {
        ctx.heartbeat({ phase: 'hold snapshot' });
        // Rejects once the workflow cancels this activity (delivered with a heartbeat's answer).
        await ctx.sleep(every);
        try {
          await shared.checkHeld();
        } catch (err) {
          throw failure('SnapshotLost', `${task.key}: the source session holding the table's shared snapshot ended ` +
              `(${firstLine(err)}); no further block range can read that snapshot`);
        }
      }
    } finally {
      // Ends the read-only transaction with the session.
      await reader.close();
    }
  };
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0].replace(/"[^"]*"/g, '"..."');
