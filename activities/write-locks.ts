import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { LoadedConfig } from '../config/load';
import {
  ACQUIRE_SIGNAL,
  ACQUIRE_UPDATE,
  RELEASE_SIGNAL,
  writeLocksWorkflowId,
  WRITE_LOCKS_WORKFLOW_TYPE,
  WriteLockAnswer,
  WriteLockRequest,
} from '../common/write-locks';

/**
 * The activities of the write locks: workflow code cannot signal-with-start, so a table
 * sync asks for its lock here (and gives it back here, as a local activity that ends within
 * its last workflow task); and the lock workflow checks here which holders are gone.
 */
export function makeWriteLockActivities(loaded: Pick<LoadedConfig, 'config'>) {
  const project = loaded.config.bigquery.project;
  return {
    /**
     * Asks the lock workflow for the table's and the source's locks. The answer `granted`
     * means held now; `queued` means the grant comes as a signal. Asked as an update, which
     * the lock workflow answers at once; when it is not running (the first request starts
     * it) or the update fails (a server with updates turned off, or a lock workflow run by
     * an older worker, which has no handler for it), asked by
     * signal-with-start, answered by signal. A request is known by its ID, so asking twice
     * is harmless: one already held is granted again.
     */
    async requestWriteLock(request: WriteLockRequest): Promise<WriteLockAnswer> {
      const ctx = Context.current();
      const workflowId = writeLocksWorkflowId(ctx.info.taskQueue);
      // BigQuery's own name of the table: two configs on one namespace lock the same table.
      const asked: WriteLockRequest = { ...request, table: `${project}.${request.label}` };
      try {
        return await ctx.client.workflow.getHandle(workflowId).executeUpdate<WriteLockAnswer, [WriteLockRequest]>(ACQUIRE_UPDATE, { args: [asked] });
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) ctx.log.warn('write lock asked by signal: the update failed', { error: describe(err) });
      }
      await ctx.client.workflow.signalWithStart(WRITE_LOCKS_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: ctx.info.taskQueue,
        args: [{}],
        signal: ACQUIRE_SIGNAL,
        signalArgs: [asked],
        staticSummary: 'Write locks: one sync per BigQuery table, source concurrency across runs',
      });
      return 'queued';
    },

    /**
     * Gives a table sync's lock and permits back. A lock workflow that is gone holds
     * nothing to give back (the next request starts a fresh one).
     */
    async releaseWriteLock(requestId: string): Promise<void> {
      const ctx = Context.current();
      try {
        await ctx.client.workflow.getHandle(writeLocksWorkflowId(ctx.info.taskQueue)).signal(RELEASE_SIGNAL, requestId);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },

    /**
     * The holders among these that are no longer running (closed, or never existed): given
     * runs, the run IDs of those closed, since a closed holder's workflow ID may already
     * belong to a new run (a run time re-run by hand); given workflow IDs (as lock
     * workflows of older versions ask), those whose latest run is closed.
     */
    async closedWorkflows(holders: (string | { workflowId: string; runId: string })[]): Promise<string[]> {
      const client = Context.current().client;
      const closed: string[] = [];
      for (const h of holders) {
        const [workflowId, runId] = typeof h === 'string' ? [h, undefined] : [h.workflowId, h.runId];
        const answer = runId ?? workflowId;
        try {
          const d = await client.workflow.getHandle(workflowId, runId).describe();
          if (d.status.name !== 'RUNNING') closed.push(answer);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) closed.push(answer);
          else throw err;
        }
      }
      return closed;
    },
  };
}

/** An error's type and message, for a log line (they carry no row values). */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
