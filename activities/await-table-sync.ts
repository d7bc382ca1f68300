import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { TableSyncOutcome } from '../common/payloads';

export type TableSyncEnd =
  | { status: 'succeeded'; outcome: TableSyncOutcome }
  | { status: 'failed'; error: string; errorType: string };

/**
 * How a table sync started by an earlier execution of the run ended: a run that continued
 * as new cannot await its children's results, so it awaits them here through the client.
 * A terminated or vanished table sync ends as failed, with what happened to it.
 */
export async function awaitTableSync(workflowId: string): Promise<TableSyncEnd> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 10_000);
  try {
    const outcome = (await Promise.race([ctx.client.workflow.getHandle(workflowId).result(), ctx.cancelled])) as TableSyncOutcome;
    return { status: 'succeeded', outcome };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { status: 'failed', ...ending(err.cause) };
    if (err instanceof WorkflowNotFoundError) return { status: 'failed', error: `the table sync ${workflowId} no longer exists`, errorType: 'Error' };
    throw err;
  } finally {
    clearInterval(beat);
  }
}

function ending(cause: Error | undefined): { error: string; errorType: string } {
  if (cause instanceof TerminatedFailure) return { error: `the table sync was terminated: ${cause.message}`, errorType: 'Terminated' };
  if (cause instanceof CancelledFailure) return { error: 'the table sync was cancelled', errorType: 'Cancelled' };
  if (cause instanceof TimeoutFailure) return { error: 'the table sync timed out', errorType: 'Timeout' };
  if (cause instanceof ApplicationFailure) return { error: cause.message, errorType: cause.type ?? 'Error' };
  return { error: cause?.message ?? 'the table sync failed', errorType: 'Error' };
}
