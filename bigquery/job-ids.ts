import { createHash } from 'node:crypto';

/**
 * Deterministic BigQuery job IDs, so that a retried activity finds the jobs an earlier
 * attempt submitted instead of loading the same rows again.
 *
 * One table sync (a child workflow run) owns the prefix `bqsync_<workflow>_<hash>`. Each
 * job is `<prefix>_a<attempt>_<kind><n>_<rows>r[_to<end>]`: the activity attempt that
 * submitted it (so that two attempts never share a job), its kind, its sequence number
 * within the sync, the number of rows it carries (so the retry knows what to verify) and,
 * for a key range, the range's end. IDs without the attempt, of older versions, still parse.
 */
export type JobKind = 'load' | 'stage' | 'merge' | 'chunk' | 'swap';

/** What a job ID says about its job. */
export interface JobIdParts {
  /** The attempt that submitted it; undefined for IDs of older versions. */
  attempt?: number;
  kind: JobKind;
  n: number;
  rows: number;
  /** chunk: the end of its key range (exclusive), or 'end' for the last. */
  to?: string;
}

export function jobPrefix(workflowId: string, runId: string): string {
  const slug = workflowId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
  const hash = createHash('sha256').update(`${workflowId}/${runId}`).digest('hex').slice(0, 16);
  return `bqsync_${slug}_${hash}`;
}

export function jobId(prefix: string, attempt: number, kind: JobKind, n: number, rows: number, to?: string): string {
  return `${prefix}_a${attempt}_${kind}${n}_${rows}r${to === undefined ? '' : `_to${to}`}`;
}

/** The parts of a job ID of this prefix; undefined for any other job. */
export function parseJobId(prefix: string, id: string): JobIdParts | undefined {
  if (!id.startsWith(`${prefix}_`)) return undefined;
  const m = /^(?:a(\d+)_)?(load|stage|merge|chunk|swap)(\d+)_(\d+)r(?:_to(-?\d+|end))?$/.exec(id.slice(prefix.length + 1));
  if (!m) return undefined;
  return { ...(m[1] ? { attempt: Number(m[1]) } : {}), kind: m[2] as JobKind, n: Number(m[3]), rows: Number(m[4]), to: m[5] };
}

/**
 * The job IDs of one SQL step of one run: `bqsync_step_<step>_<hash>_<n>`. The hash covers
 * the pipeline run (workflow and run ID) and the activity that runs the step, so every
 * attempt of that step in that run finds the jobs of the attempts before it, and another
 * run never does. `n` counts the jobs: a job that failed for a passing reason is followed by
 * the next number.
 */
export function stepJobPrefix(execution: { workflowId: string; runId: string; activityId: string }, step: string): string {
  const slug = step.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
  const hash = createHash('sha256').update(`${execution.workflowId}/${execution.runId}/${execution.activityId}/${step}`).digest('hex').slice(0, 16);
  return `bqsync_step_${slug}_${hash}`;
}

export const stepJobId = (prefix: string, n: number): string => `${prefix}_${n}`;
