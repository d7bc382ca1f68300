/**
 * Where a table sync's orchestration time goes, from its own history: its workflow tasks
 * (time waiting for a worker to take each, and time the worker took to answer), the wait
 * for its write lock, and the time from its data activity's end to its own close.
 */
import { at, HistoryEvent } from './overhead';

export interface TablePhases {
  workflowTasks: number;
  /** Summed over its workflow tasks: scheduled → started, and started → completed. */
  taskQueueMs: number;
  taskRunMs: number;
  /**
   * From asking for the write lock (an activity, or a local activity's marker) to its grant
   * arriving; granted in the request's reply: from the first workflow task's start (where the
   * local activity ran) to its marker.
   */
  lockMs: number;
  /** From the data activity's end to the table sync's close (the lock's release). */
  closeMs: number;
}

export function phasesOf(events: HistoryEvent[]): TablePhases {
  const phases: TablePhases = { workflowTasks: 0, taskQueueMs: 0, taskRunMs: 0, lockMs: 0, closeMs: 0 };
  let scheduled = 0;
  let started = 0;
  let lockAsked: number | undefined;
  let firstTaskStarted: number | undefined;
  let grantSignalled = false;
  let dataEnded: number | undefined;
  const activities = new Map<string, string>();
  for (const e of events) {
    const t = at(e.eventTime);
    if (e.workflowTaskScheduledEventAttributes) scheduled = t;
    if (e.workflowTaskStartedEventAttributes) {
      phases.workflowTasks++;
      phases.taskQueueMs += t - scheduled;
      started = t;
      firstTaskStarted ??= t;
    }
    if (e.workflowTaskCompletedEventAttributes) phases.taskRunMs += t - started;
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) activities.set(String(e.eventId), name);
    if (name === 'requestWriteLock') lockAsked = t;
    // Asked through a local activity: its marker is written when the workflow task completes.
    if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' && lockAsked === undefined) lockAsked = t;
    if (e.workflowExecutionSignaledEventAttributes?.signalName === 'writeLockGranted' && lockAsked !== undefined) {
      phases.lockMs += t - lockAsked;
      grantSignalled = true;
    }
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    if (done && activities.get(String(done.scheduledEventId)) === 'syncTable') dataEnded = t;
    if ((e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes) && dataEnded !== undefined) phases.closeMs = t - dataEnded;
  }
  const localRequest = lockAsked !== undefined && firstTaskStarted !== undefined && lockAsked > firstTaskStarted;
  if (!grantSignalled && localRequest && dataEnded !== undefined) phases.lockMs = lockAsked! - firstTaskStarted!;
  return phases;
}

/** The mean of each phase over the tables. */
export function meanPhases(all: TablePhases[]): TablePhases {
  const n = Math.max(1, all.length);
  const sum = (k: keyof TablePhases) => all.reduce((s, p) => s + p[k], 0) / n;
  return { workflowTasks: sum('workflowTasks'), taskQueueMs: sum('taskQueueMs'), taskRunMs: sum('taskRunMs'), lockMs: sum('lockMs'), closeMs: sum('closeMs') };
}
