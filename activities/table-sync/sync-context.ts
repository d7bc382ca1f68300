import { Context } from '@temporalio/activity';
import type { BigQuery } from '@google-cloud/bigquery';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedConfig } from '../../config/load';
import type { TableTask } from '../../common/payloads';
import { schemaFailure } from '../../common/failures';
import { createBigQuery } from '../../bigquery/client';
import { jobPrefix } from '../../bigquery/job-ids';
import { isValidBigQueryTableName } from '../../bigquery/names';
import type { StagingBudget } from './staging-budget';
import { Attempt, currentAttempt } from './attempt';
import { Heartbeats, Progress, startHeartbeats } from './heartbeats';

export type { Progress } from './heartbeats';

/** What every stage of one table sync works with. */
export interface TableSync {
  task: TableTask;
  /** The config file, named in messages that say what to fix. */
  file: string;
  bq: BigQuery;
  location: string;
  /** BigQuery is the emulator (an endpoint is set): content checks allow for its gaps (README). */
  onEmulator: boolean;
  gzip: boolean;
  /** The prefix of this sync's job IDs (job-ids.ts): the same in every attempt. */
  jobPrefix: string;
  /** `project.dataset.table` of the destination. */
  target: string;
  /**
   * Where incremental rows and key ranges land before they reach the destination: this
   * attempt's own table (stagingTable), or the one of an earlier attempt whose staged rows
   * this attempt goes on with (resume.ts).
   */
  staging: { dataset: string; table: string };
  /** Set once this attempt created or took over a staging table: it drops them at the end. */
  usesStaging: boolean;
  /** This attempt's directory for staged files, removed by endSync. */
  workDir: string;
  attempt: number;
  /** Asks Temporal whether this attempt is still the one it runs (attempt.ts). */
  current: Attempt;
  /** When the sync was first scheduled: earlier attempts' jobs are younger. */
  scheduledAt: Date;
  /** The worker's staging budget, shared by its table syncs (staging-budget.ts). */
  budget: StagingBudget;
  /** Aborted when the activity is cancelled (the worker shuts down). */
  signal: AbortSignal;
  heartbeat(progress: Progress): void;
  heartbeats: Heartbeats;
}

/** Checks the destination's name, then sets up the client, the job IDs and a work directory. */
export async function startSync(loaded: LoadedConfig, task: TableTask, budget: StagingBudget): Promise<TableSync> {
  const ctx = Context.current();
  const { bigquery } = loaded.config;
  checkDestinationName(task, loaded.file);
  // Always run by the tableSync workflow; the fallback keeps the job IDs unique regardless.
  const { workflowId, runId } = ctx.info.workflowExecution ?? { workflowId: ctx.info.activityType, runId: ctx.info.activityId };
  const prefix = jobPrefix(workflowId, runId);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bqsync-'));
  // Started last: endSync stops it, and nothing after it can fail before endSync is due.
  const heartbeats = startHeartbeats();
  return {
    task,
    file: loaded.file,
    bq: createBigQuery(bigquery),
    location: bigquery.location,
    onEmulator: Boolean(bigquery.endpoint),
    gzip: bigquery.stagingCompression === 'gzip',
    jobPrefix: prefix,
    target: `${bigquery.project}.${task.dataset}.${task.destination}`,
    staging: { dataset: task.dataset, table: stagingTable(task.destination, prefix, ctx.info.attempt) },
    usesStaging: false,
    workDir,
    attempt: ctx.info.attempt,
    budget,
    current: currentAttempt(task.key, () => heartbeats.again()),
    scheduledAt: new Date(ctx.info.scheduledTimestampMs),
    signal: ctx.cancellationSignal,
    heartbeat: (progress) => heartbeats.beat(progress),
    heartbeats,
  };
}

/**
 * The staging table of one attempt of a sync: attempts never share one, so a superseded
 * attempt that is still running cannot write into the table the current one uses.
 */
export function stagingTable(destination: string, prefix: string, attempt: number): string {
  return `_bqsync_stage_${destination}_${prefix.slice(-16)}_a${attempt}`;
}

/**
 * The staging table of a sync read in key ranges as activities of their own: one for the
 * whole sync (every range, on any worker, appends to it), so it carries no attempt.
 */
export function rangesStagingTable(destination: string, prefix: string): string {
  return `_bqsync_stage_${destination}_${prefix.slice(-16)}_ranges`;
}

/** The staged files go, whatever happened, and the heartbeats stop. */
export async function endSync(sync: TableSync): Promise<void> {
  sync.heartbeats.stop();
  await fs.rm(sync.workDir, { recursive: true, force: true });
  sync.budget.release((file) => file.startsWith(sync.workDir + path.sep));
}

function checkDestinationName(task: TableTask, file: string): void {
  if (isValidBigQueryTableName(task.destination)) return;
  throw schemaFailure(
    `${task.key}: ${JSON.stringify(task.destination)} is not a valid BigQuery table name ` +
      '(letters, marks, digits, underscores, dashes and spaces); give it one in ' +
      `${file}: list it under sources.${task.source}.tables as { name: ${JSON.stringify(task.table)}, destination: <valid name> }` +
      (task.discovered ? `, or leave it out with sources.${task.source}.discover.exclude` : ''),
  );
}
