import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { failure } from '../../common/failures';

/**
 * This attempt of a table sync, as Temporal sees it. After a heartbeat timeout Temporal
 * retries the activity, while the attempt that went silent may still be running (a worker
 * cut off from the server, a process that stalled). From then on that attempt must not
 * submit a job or touch a staging table: before each, it asks the server whether it is
 * still the attempt being run. Temporal's answer decides, not this worker's clock.
 */
export interface Attempt {
  readonly number: number;
  /** Throws AttemptSuperseded unless this attempt is still the one Temporal runs; `before` names what it was about to do. */
  ensureCurrent(before: string): Promise<void>;
  /** Whether Temporal will retry the activity should this attempt fail (from the last check). */
  retriesLeft(): boolean;
}

/** How often an unanswered check is repeated, while it waits for the server. */
const RECHECK_MS = 1000;

export function currentAttempt(key: string, heartbeat: () => void): Attempt {
  const ctx = Context.current();
  const { info } = ctx;
  let retriesLeft = true;
  const superseded = (before: string, why: string) =>
    failure('AttemptSuperseded', `${key}: attempt ${info.attempt} stopped before ${before}: ${why}; a later attempt of the table sync carries on`);

  async function standing(): Promise<temporal.api.workflow.v1.IPendingActivityInfo | undefined | 'gone'> {
    const execution = info.workflowExecution;
    if (!execution) return undefined; // not run by a workflow (never in bqsync): nothing to ask
    try {
      const { pendingActivities } = await ctx.client.workflowService.describeWorkflowExecution({
        namespace: info.workflowNamespace ?? info.activityNamespace,
        execution,
      });
      return pendingActivities?.find((a) => a.activityId === info.activityId) ?? 'gone';
    } catch (err) {
      if ((err as { code?: number }).code === 5) return 'gone'; // gRPC NOT_FOUND: the workflow is gone
      throw err;
    }
  }

  return {
    number: info.attempt,
    retriesLeft: () => retriesLeft,
    async ensureCurrent(before: string): Promise<void> {
      // Past the heartbeat timeout without an answer, Temporal has given the table to another attempt.
      const giveUpAt = Date.now() + (info.heartbeatTimeoutMs ?? 120_000);
      for (;;) {
        if (ctx.cancellationSignal.aborted) throw superseded(before, `the activity was cancelled (${cancelReason(ctx)})`);
        let pending: Awaited<ReturnType<typeof standing>>;
        try {
          pending = await standing();
        } catch {
          if (Date.now() > giveUpAt) throw superseded(before, 'Temporal could not be asked for longer than the heartbeat timeout');
          heartbeat();
          await new Promise((r) => setTimeout(r, RECHECK_MS));
          continue;
        }
        if (pending === undefined) return;
        if (pending === 'gone') throw superseded(before, 'Temporal no longer runs this activity');
        const started = pending.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
        if (pending.attempt !== info.attempt || !started) throw superseded(before, `Temporal now runs attempt ${pending.attempt} (heartbeat timeout)`);
        retriesLeft = !pending.maximumAttempts || info.attempt < pending.maximumAttempts;
        return;
      }
    },
  };
}

function cancelReason(ctx: Context): string {
  const d = ctx.cancellationDetails;
  if (!d) return 'no reason given';
  const reasons = Object.entries(d).filter(([, on]) => on === true).map(([name]) => name);
  return reasons.join(', ') || 'no reason given';
}
