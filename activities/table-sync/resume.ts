import { log } from '@temporalio/activity';
import { awaitJob, PriorJob, priorJobs } from '../../bigquery/jobs';
import { countRows, tableExists } from '../../bigquery/tables';
import type { SyncPlan } from './plan';
import type { TableSync } from './sync-context';

/** The jobs earlier attempts of this sync submitted, and the sequence number of this attempt's first job. */
export interface JobSequence {
  prior: PriorJob[];
  next: number;
}

/** What an earlier attempt left that this one builds on, instead of loading the same rows again. */
export type EarlierWork =
  /** The sync's rows landed: a replace load or swap (the table holds its rows), or a merge. */
  | { kind: 'done'; job: PriorJob; rowsLoaded: number }
  /** An incremental sync's staging load landed: merge those rows, do not read them again. */
  | ({ kind: 'staged'; job: PriorJob } & JobSequence)
  /** Key ranges landed in the staging table: go on after the last of them (landedRangePrefix). */
  | ({ kind: 'ranges' } & JobSequence)
  /** Nothing to build on: read the table. */
  | ({ kind: 'fresh' } & JobSequence);

/**
 * A retry: did an earlier attempt already get rows into BigQuery? Every job has a
 * deterministic ID (job-ids.ts), so the earlier attempts' jobs are found by listing them.
 */
export async function resumeEarlierAttempt(sync: TableSync, plan: SyncPlan): Promise<EarlierWork> {
  const prior = sync.attempt > 1 ? await priorJobs(sync.bq, sync.jobPrefix, sync.scheduledAt) : [];
  const jobs: JobSequence = { prior, next: (prior.at(-1)?.n ?? 0) + 1 };
  const last = await lastLandedJob(sync, prior);
  switch (last?.kind) {
    case 'load':
    case 'swap':
      return (await landedReplace(sync, last)) ?? { kind: 'fresh', ...jobs };
    case 'merge':
      return { kind: 'done', job: last, rowsLoaded: last.rows };
    case 'stage':
      // Staged rows are merged only by an incremental sync; any other reads the table again.
      if (!plan.incremental) return { kind: 'fresh', ...jobs };
      return (await takeOverStaging(sync, last)) ? { kind: 'staged', job: last, ...jobs } : startAfresh(jobs);
    case 'chunk':
      return (await takeOverStaging(sync, last)) ? { kind: 'ranges', ...jobs } : startAfresh(jobs);
    default:
      return { kind: 'fresh', ...jobs };
  }
}

/**
 * The key ranges earlier attempts landed, in key order, up to the first that did not. A
 * range's job was submitted only after the previous one finished, so they form a prefix.
 */
export async function landedRangePrefix(sync: TableSync, prior: PriorJob[]): Promise<PriorJob[]> {
  const landed: PriorJob[] = [];
  for (const job of prior.filter((j) => j.kind === 'chunk' && !j.error)) {
    if (!(await hasLanded(sync, job))) break; // that range failed after all: read it again
    landed.push(job);
  }
  return landed;
}

/**
 * This attempt goes on with the staging table an earlier attempt's job loaded (its rows
 * are there), instead of its own; false when that table is gone (dropped or expired).
 */
async function takeOverStaging(sync: TableSync, job: PriorJob): Promise<boolean> {
  const table = job.table ?? sync.staging.table;
  if (!(await tableExists(sync.bq, sync.staging.dataset, table))) return false;
  sync.staging = { dataset: sync.staging.dataset, table };
  sync.usesStaging = true;
  return true;
}

/** Nothing of the earlier attempts is built on: their staging table is gone. */
function startAfresh(jobs: JobSequence): EarlierWork {
  return { kind: 'fresh', prior: [], next: jobs.next };
}

/** A landed replace load or swap counts when the table holds its rows (the count is in its ID). */
async function landedReplace(sync: TableSync, job: PriorJob): Promise<EarlierWork | undefined> {
  const { bq, task } = sync;
  const count = await countRows(bq, bq.projectId, task.dataset, task.destination);
  if (count === job.rows) return { kind: 'done', job, rowsLoaded: count };
  return finishedWithoutRows(job, count);
}

/** The job finished without its rows (it was cut off inside BigQuery): this attempt loads afresh. */
function finishedWithoutRows(job: PriorJob, found: number): undefined {
  log.warn('an earlier load job finished without its rows; loading again', { job: job.id, expected: job.rows, found });
  return undefined;
}

/** The last job of earlier attempts that did not fail, once it has finished. */
async function lastLandedJob(sync: TableSync, prior: PriorJob[]): Promise<PriorJob | undefined> {
  const last = [...prior].reverse().find((j) => !j.error);
  return last && (await hasLanded(sync, last)) ? last : undefined;
}

/** Waits for an earlier attempt's job; false when it failed after all. */
async function hasLanded(sync: TableSync, job: PriorJob): Promise<boolean> {
  try {
    await awaitJob(sync.bq, job.id, () => sync.heartbeat({ phase: 'resume', rows: 0, bytes: 0 }), sync.signal);
    return true;
  } catch {
    sync.signal.throwIfAborted();
    return false;
  }
}
