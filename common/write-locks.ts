/**
 * The write locks every table sync takes before it writes: one writer per BigQuery table
 * at any moment, and at most a source's `concurrency` syncs reading that source, across
 * every pipeline, schedule, CLI call and worker. They are held by one long-lived workflow
 * (workflows/write-locks.ts); these names are shared with the activity that reaches it.
 */

/**
 * The lock workflow's ID: one per task queue (the workers of one deployment, which run its
 * every pipeline, schedule and CLI call), started on demand by the first request and run by
 * those workers. Not a pipeline's ID: pipeline names hold no dot.
 */
export function writeLocksWorkflowId(taskQueue: string): string {
  return `bqsync.write-locks.${taskQueue}`;
}
export const WRITE_LOCKS_WORKFLOW_TYPE = 'writeLocks';
/** Holder -> lock workflow. */
export const ACQUIRE_SIGNAL = 'acquireWriteLock';
/**
 * The same request as an update: the lock workflow answers in its reply whether the lock is
 * held now, so that an uncontended sync goes on without waiting for a grant signal.
 */
export const ACQUIRE_UPDATE = 'acquireWriteLockNow';
/** The update's answer: `queued` means the grant comes later, as a signal. */
export type WriteLockAnswer = 'granted' | 'queued';
export const RELEASE_SIGNAL = 'releaseWriteLock';
/** Lock workflow -> holder. */
export const GRANTED_SIGNAL = 'writeLockGranted';
export const WAITING_SIGNAL = 'writeLockWaiting';

/** A table sync asking to write one table while reading one source. */
export interface WriteLockRequest {
  /** Unique per attempt to hold (the holder's run ID): a repeated request is the same one. */
  requestId: string;
  /** The holder's workflow ID: grants and waiting notices are signalled there. */
  holder: string;
  /** `source.table`, for the operator. */
  key: string;
  /** The destination as the operator reads it: `dataset.table`. */
  label: string;
  /** The lock's name: `project.dataset.table`. */
  table: string;
  source: string;
  /** The source's `concurrency`: permits of that source held at once, across every run. */
  sourceCapacity: number;
  /**
   * Permits of the source this sync holds: one per connection it reads with at once (a
   * table read in parallel key ranges takes several). Absent: 1, as in requests and
   * carried state of older versions.
   */
  permits?: number;
}

/**
 * The permits a table sync asks for: one per key range it may read at once (the table's
 * `parallelRanges`, absent 1), never more than the source's concurrency.
 */
export function tablePermits(parallelRanges: number | undefined, sourceConcurrency: number | undefined): number {
  return Math.max(1, Math.min(parallelRanges ?? 1, sourceConcurrency ?? 1));
}

/** The permits a request holds, never more than the source has (it would never be granted). */
export function permitsOf(r: Pick<WriteLockRequest, 'permits' | 'sourceCapacity'>): number {
  return Math.max(1, Math.min(r.permits ?? 1, r.sourceCapacity));
}

/** Why a request still waits, told to its holder whenever the reason changes. */
export interface WriteLockWaiting {
  requestId: string;
  message: string;
}

export interface WriteLocksSnapshot {
  held: WriteLockRequest[];
  queued: WriteLockRequest[];
}

export interface WriteLocksInput {
  /** State handed over by continue-as-new. */
  carried?: WriteLocksSnapshot & { told: [string, string][] };
  /** How often holders are checked for having closed without releasing (tests lower it). */
  sweepEvery?: string;
  /** Continue as new past this many history events (tests lower it). */
  continueAsNewAfterEvents?: number;
}
