import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { LoadedConfig } from '../config/load';
import { ACQUIRE_SIGNAL, RELEASE_SIGNAL, writeLocksWorkflowId, WRITE_LOCKS_WORKFLOW_TYPE, WriteLockRequest } from '../common/write-locks';

/**
 * The activities of the write locks: workflow code cannot signal-with-start, so a table
 * sync asks for its lock here (and gives it back here, as a local activity that ends within
 * its last workflow task); and the lock workflow checks here which holders are gone.
 */
export function makeWriteLockActivities(loaded: Pick<LoadedConfig, 'config'>) {
  const project = loaded.config.bigquery.project;
  return {
    /** Asks the lock workflow (started if none runs) for the table's and the source's locks. */
    async requestWriteLock(request: WriteLockRequest): Promise<void> {
      const ctx = Context.current();
      await ctx.client.workflow.signalWithStart(WRITE_LOCKS_WORKFLOW_TYPE, {
        workflowId: writeLocksWorkflowId(ctx.info.taskQueue),
        taskQueue: ctx.info.taskQueue,
        args: [{}],
        signal: ACQUIRE_SIGNAL,
        // BigQuery's own name of the table: two configs on one namespace lock the same table.
        signalArgs: [{ ...request, table: `${project}.${request.label}` }],
        staticSummary: 'Write locks: one sync per BigQuery table, source concurrency across runs',
      });
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

    /** The workflows among these that are no longer running (closed, or never existed). */
    async closedWorkflows(workflowIds: string[]): Promise<string[]> {
      const client = Context.current().client;
      const closed: string[] = [];
      for (const id of workflowIds) {
        try {
          const d = await client.workflow.getHandle(id).describe();
          if (d.status.name !== 'RUNNING') closed.push(id);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) closed.push(id);
          else throw err;
        }
      }
      return closed;
    },
  };
}
