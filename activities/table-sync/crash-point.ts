/**
 * Named points in a table sync (and a SQL step: `step-submitted`) where the tests kill the worker for real
 * (BQSYNC_CRASH_AT=<point> in that worker's environment): the moment just after BigQuery
 * accepted a job cannot be hit reliably from outside the process. Unset, it does nothing.
 */
export type CrashPoint = 'load-submitted' | 'stage-submitted' | 'merge-submitted' | 'chunk-submitted' | 'swap-submitted' | 'step-submitted';

export function crashPoint(point: CrashPoint): void {
  if (process.env.BQSYNC_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
