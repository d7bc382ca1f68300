/**
 * How much of a run's wall time is orchestration, read from the Temporal histories:
 *   - data work: the time activities ran (planning, then each table's sync activity);
 *   - orchestration overhead: the run's wall time minus the time the same data work would
 *     take if Temporal added nothing, i.e. the tables' activity times replayed in the
 *     run's own start order under the same per-source and per-run limits.
 * That covers every round trip, task-queue wait and scheduling gap, and nothing else.
 * A run that continued as new is read across all its executions.
 */
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { phasesOf, TablePhases } from './table-phases';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const ORCHESTRATION_ACTIVITIES = new Set(['requestWriteLock', 'awaitTableSync']);

export const at = (t: HistoryEvent['eventTime']) => Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);

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
  // The write lock's request is orchestration (a signal to the lock workflow), not data work;
  // so is a continued run's wait for the table syncs an earlier execution started.
  const orchestration = new Set<string>();
  for (const e of events) {
    const id = String(e.eventId);
    if (ORCHESTRATION_ACTIVITIES.has(e.activityTaskScheduledEventAttributes?.activityType?.name ?? '')) orchestration.add(id);
    else if (e.activityTaskScheduledEventAttributes) scheduled.set(id, at(e.eventTime));
    const s = e.activityTaskStartedEventAttributes;
    if (s && !orchestration.has(String(s.scheduledEventId))) {
      const from = (s.attempt ?? 1) > 1 ? scheduled.get(String(s.scheduledEventId)) : at(e.eventTime);
      if ((s.attempt ?? 1) > 1) retried++;
      started.set(String(s.scheduledEventId), from ?? at(e.eventTime));
    }
    const closed =
      e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed && !orchestration.has(String(closed.scheduledEventId))) ms += at(e.eventTime) - (started.get(String(closed.scheduledEventId)) ?? at(e.eventTime));
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
  /** Events in the table sync's own history. */
  events: number;
  phases: TablePhases;
  /** From the run's request to the table sync's start, and from its close to the run hearing of it. */
  startMs: number;
  heardMs: number;
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

/**
 * Every execution of a workflow ID, first to last, from any one of its runs: a run that
 * continued as new names its successor, and each names the first.
 */
export async function executionHistories(client: Client, workflowId: string, runId: string): Promise<HistoryEvent[][]> {
  const history = async (id: string) => (await client.workflow.getHandle(workflowId, id).fetchHistory()).events ?? [];
  const given = await history(runId);
  const first = given[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId || runId;
  const executions: HistoryEvent[][] = [];
  let next: string | undefined = first;
  while (next) {
    const events: HistoryEvent[] = next === runId ? given : await history(next);
    executions.push(events);
    next = events[events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
  }
  return executions;
}

/** The string argument of a scheduled activity (awaitTableSync's workflow ID). */
function firstArgument(e: HistoryEvent): string | undefined {
  const data = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data;
  if (!data) return undefined;
  const value: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
  return typeof value === 'string' ? value : undefined;
}

/** When the run learnt of each table sync's end: its child event, or a continuation's awaitTableSync. */
function closesSeenByRun(events: HistoryEvent[]): Map<string, number> {
  const closed = new Map<string, number>();
  const awaited = new Map<string, string>();
  for (const e of events) {
    const done =
      e.childWorkflowExecutionCompletedEventAttributes ??
      e.childWorkflowExecutionFailedEventAttributes ??
      e.childWorkflowExecutionTimedOutEventAttributes ??
      e.childWorkflowExecutionCanceledEventAttributes ??
      e.childWorkflowExecutionTerminatedEventAttributes;
    if (done?.workflowExecution?.workflowId) closed.set(done.workflowExecution.workflowId, at(e.eventTime));
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitTableSync') {
      const id = firstArgument(e);
      if (id) awaited.set(String(e.eventId), id);
    }
    const end = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    const id = end && awaited.get(String(end.scheduledEventId));
    if (id) closed.set(id, at(e.eventTime));
  }
  return closed;
}

/** Runs `f` over the items, at most `limit` at once. */
async function mapLimited<T, R>(items: T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]);
      }
    }),
  );
  return out;
}

/** A run's overhead as the benchmarks print it: in seconds, as a share of the run, and per table. */
export interface OverheadFigures {
  wallSeconds: number;
  dataOnlySeconds: number;
  overheadSeconds: number;
  overheadShare: number;
  perTableOverheadMs: number;
  /** Median and 95th percentile of a table's wall minus activity time. */
  perTableOverheadP50Ms: number;
  perTableOverheadP95Ms: number;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

export function overheadFigures(report: OverheadReport): OverheadFigures {
  const overheads = report.tables.map((t) => t.wallMs - t.activityMs);
  return {
    wallSeconds: report.wallMs / 1000,
    dataOnlySeconds: report.dataOnlyMs / 1000,
    overheadSeconds: report.overheadMs / 1000,
    overheadShare: report.overheadMs / report.wallMs,
    perTableOverheadMs: report.perTableOverheadMs,
    perTableOverheadP50Ms: percentile(overheads, 50),
    perTableOverheadP95Ms: percentile(overheads, 95),
  };
}

export async function overheadOf(client: Client, workflowId: string, runId: string, perSource: number, perRun: number): Promise<OverheadReport> {
  return overheadOfExecutions(client, await executionHistories(client, workflowId, runId), perSource, perRun);
}

/** The overhead of a run that may have continued as new: its executions' histories in order. */
export async function overheadOfExecutions(client: Client, executions: HistoryEvent[][], perSource: number, perRun: number): Promise<OverheadReport> {
  const parent = executions.flat();
  const runStart = at(parent[0].eventTime);
  const runEnd = at(parent[parent.length - 1].eventTime);
  const planMs = executions.reduce((ms, events) => ms + activityTime(events).ms, 0);
  const initiated = new Map<string, number>();
  for (const e of parent) {
    const a = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (a?.workflowId) initiated.set(a.workflowId, at(e.eventTime));
  }
  const closed = closesSeenByRun(parent);
  const tables = await mapLimited([...initiated], 8, async ([childId, when]): Promise<TableTiming> => {
    const history = (await client.workflow.getHandle(childId).fetchHistory()).events ?? [];
    // Child IDs end in "<source>.<table>", then ".<n>" from a table's second run on.
    const parts = childId.split('.');
    if (/^\d+$/.test(parts[parts.length - 1])) parts.pop();
    const source = parts[parts.length - 2];
    const work = activityTime(history);
    const childStart = history.length ? at(history[0].eventTime) : when;
    const childEnd = history.length ? at(history[history.length - 1].eventTime) : when;
    const heard = closed.get(childId) ?? runEnd;
    return {
      workflowId: childId,
      source,
      initiatedMs: when - runStart,
      wallMs: heard - when,
      activityMs: work.ms,
      retried: work.retried,
      events: history.length,
      phases: phasesOf(history),
      startMs: childStart - when,
      heardMs: heard - childEnd,
    };
  });
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
