/**
 * How much of a run's wall time is orchestration, read from the Temporal histories:
 *   - data work: the time activities ran (planning, then each table's sync activity);
 *   - orchestration overhead: the run's wall time minus the time the same data work would
 *     take if Temporal added nothing, i.e. the tables' activity times replayed in the
 *     run's own start order under the same per-source and per-run limits.
 * That covers every round trip, task-queue wait and scheduling gap, and nothing else.
 */
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const at = (t: HistoryEvent['eventTime']) => Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);

/**
 * Milliseconds activities of one workflow ran, and how many were retried. Temporal records
 * only the last attempt's start; for a retried activity the time counts from its
 * scheduling, so failed attempts and their backoff are data work (time lost to a fault
 * at the source or in BigQuery), not orchestration.
 */
function activityTime(events: HistoryEvent[]): { ms: number; retried: number } {
  const scheduled = new Map<string, number>();
  const started = new Map<string, number>();
  let ms = 0;
  let retried = 0;
  // The write lock's request is orchestration (a signal to the lock workflow), not data work.
  const lockRequests = new Set<string>();
  for (const e of events) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'requestWriteLock') lockRequests.add(id);
    else if (e.activityTaskScheduledEventAttributes) scheduled.set(id, at(e.eventTime));
    const s = e.activityTaskStartedEventAttributes;
    if (s && !lockRequests.has(String(s.scheduledEventId))) {
      const from = (s.attempt ?? 1) > 1 ? scheduled.get(String(s.scheduledEventId)) : at(e.eventTime);
      if ((s.attempt ?? 1) > 1) retried++;
      started.set(String(s.scheduledEventId), from ?? at(e.eventTime));
    }
    const closed =
      e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed && !lockRequests.has(String(closed.scheduledEventId))) ms += at(e.eventTime) - (started.get(String(closed.scheduledEventId)) ?? at(e.eventTime));
  }
  return { ms, retried };
}

export interface TableTiming {
  workflowId: string;
  source: string;
  /** When the run asked for the child, relative to the run's start. */
  initiatedMs: number;
  /** The child's wall time, from the request to start it to its close. */
  wallMs: number;
  activityMs: number;
  retried: number;
}

export interface OverheadReport {
  wallMs: number;
  planMs: number;
  tables: TableTiming[];
  /** The run's wall time if orchestration cost nothing. */
  dataOnlyMs: number;
  overheadMs: number;
  /** Mean per table of its wall time minus its activity time. */
  perTableOverheadMs: number;
  /** Table syncs whose activity needed more than one attempt. */
  retriedTables: number;
}

/**
 * Replays activity times in the given start order: a table starts as soon as its source
 * and the run have a free slot. Returns when the last one ends.
 */
export function dataOnlyMakespan(tables: { source: string; activityMs: number }[], perSource: number, perRun: number): number {
  const running: { source: string; endsAt: number }[] = [];
  const queue = [...tables];
  let now = 0;
  let end = 0;
  while (queue.length > 0) {
    const bySource = (s: string) => running.filter((r) => r.source === s).length;
    const i = running.length < perRun ? queue.findIndex((t) => bySource(t.source) < perSource) : -1;
    if (i >= 0) {
      const [t] = queue.splice(i, 1);
      running.push({ source: t.source, endsAt: now + t.activityMs });
      end = Math.max(end, now + t.activityMs);
      continue;
    }
    // Nothing can start: move on to the next end of a running table.
    running.sort((a, b) => a.endsAt - b.endsAt);
    now = running.shift()!.endsAt;
  }
  return end;
}

export async function overheadOf(client: Client, workflowId: string, runId: string, perSource: number, perRun: number): Promise<OverheadReport> {
  const parent = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const runStart = at(parent[0].eventTime);
  const runEnd = at(parent[parent.length - 1].eventTime);
  const planMs = activityTime(parent).ms;
  const initiated = new Map<string, number>();
  const closed = new Map<string, number>();
  for (const e of parent) {
    const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (a?.workflowId) initiated.set(a.workflowId, at(e.eventTime));
    const done =
      e.childWorkflowExecutionCompletedEventAttributes ?? e.childWorkflowExecutionFailedEventAttributes ?? e.childWorkflowExecutionTimedOutEventAttributes;
    if (done?.workflowExecution?.workflowId) closed.set(done.workflowExecution.workflowId, at(e.eventTime));
  }
  const tables: TableTiming[] = [];
  for (const [childId, when] of initiated) {
    const history = (await client.workflow.getHandle(childId).fetchHistory()).events ?? [];
    // Child IDs end in "<source>.<table>", then ".<n>" from a table's second run on.
    const parts = childId.split('.');
    if (/^\d+$/.test(parts[parts.length - 1])) parts.pop();
    const source = parts[parts.length - 2];
    const work = activityTime(history);
    tables.push({ workflowId: childId, source, initiatedMs: when - runStart, wallMs: (closed.get(childId) ?? runEnd) - when, activityMs: work.ms, retried: work.retried });
  }
  tables.sort((a, b) => a.initiatedMs - b.initiatedMs);
  const dataOnlyMs = planMs + dataOnlyMakespan(tables, perSource, perRun);
  const wallMs = runEnd - runStart;
  return {
    wallMs,
    planMs,
    tables,
    dataOnlyMs,
    overheadMs: wallMs - dataOnlyMs,
    perTableOverheadMs: tables.reduce((s, t) => s + t.wallMs - t.activityMs, 0) / Math.max(1, tables.length),
    retriedTables: tables.filter((t) => t.retried > 0).length,
  };
}
