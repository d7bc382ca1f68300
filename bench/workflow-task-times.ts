/**
 * How long a workflow's tasks waited for a worker and took it to answer, from its
 * histories (all executions across continue-as-new). A run's or the lock workflow's task
 * that takes long holds the worker's workflow thread, and every table sync's tasks queue
 * behind it.
 */
import { at, HistoryEvent } from './overhead';

export interface TaskTimes {
  tasks: number;
  queueMeanMs: number;
  runMeanMs: number;
  runP95Ms: number;
  runMaxMs: number;
  /** Sum of started → completed: the worker's time spent on this workflow. */
  runTotalMs: number;
}

export function taskTimes(executions: HistoryEvent[][]): TaskTimes {
  const queued: number[] = [];
  const ran: number[] = [];
  for (const events of executions) {
    let scheduled = 0;
    let started = 0;
    for (const e of events) {
      const t = at(e.eventTime);
      if (e.workflowTaskScheduledEventAttributes) scheduled = t;
      if (e.workflowTaskStartedEventAttributes) {
        queued.push(t - scheduled);
        started = t;
      }
      if (e.workflowTaskCompletedEventAttributes) ran.push(t - started);
    }
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const sorted = [...ran].sort((a, b) => a - b);
  return {
    tasks: ran.length,
    queueMeanMs: mean(queued),
    runMeanMs: mean(ran),
    runP95Ms: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? NaN,
    runMaxMs: sorted[sorted.length - 1] ?? NaN,
    runTotalMs: ran.reduce((s, x) => s + x, 0),
  };
}
