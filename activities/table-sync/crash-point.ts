/**
 * Named points in a table sync (and a SQL step: `step-submitted`) where the tests kill the worker for real
 * (BQSYNC_CRASH_AT=<point> in that worker's environment): the moment just after BigQuery
 * accepted a job cannot be hit reliably from outside the process. Unset, it does nothing.
 * `range-read`: a key range's activity, once it has read rows but not loaded them.
 */
export type CrashPoint = 'range-read' | 'load-submitted' | 'stage-submitted' | 'merge-submitted' | 'chunk-submitted' | 'swap-submitted' | 'step-submitted';

export function crashPoint(point: CrashPoint): void {
  if (process.env.BQSYNC_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
