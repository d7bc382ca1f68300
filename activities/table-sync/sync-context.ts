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

/** What a heartbeat carries: the stage, and how far it got (`range`: the key range, from 1). */
export interface Progress {
  phase: string;
  rows: number;
  bytes: number;
  range?: number;
}

/** What every stage of one table sync works with. */
export interface TableSync {
  task: TableTask;
  /** The config file, named in messages that say what to fix. */
  file: string;
  bq: BigQuery;
  location: string;
  gzip: boolean;
  /** The prefix of this sync's job IDs (job-ids.ts): the same in every attempt. */
  jobPrefix: string;
  /** `project.dataset.table` of the destination. */
  target: string;
  /** Where incremental rows and key ranges land before they reach the destination. */
  staging: { dataset: string; table: string };
  /** This attempt's directory for staged files, removed by endSync. */
  workDir: string;
  attempt: number;
  /** When the sync was first scheduled: earlier attempts' jobs are younger. */
  scheduledAt: Date;
  /** The worker's staging budget, shared by its table syncs (staging-budget.ts). */
  budget: StagingBudget;
  /** Aborted when the activity is cancelled (the worker shuts down). */
  signal: AbortSignal;
  heartbeat(progress: Progress): void;
}

/** Checks the destination's name, then sets up the client, the job IDs and a work directory. */
export async function startSync(loaded: LoadedConfig, task: TableTask, budget: StagingBudget): Promise<TableSync> {
  const ctx = Context.current();
  const { bigquery } = loaded.config;
  checkDestinationName(task, loaded.file);
  // Always run by the tableSync workflow; the fallback keeps the job IDs unique regardless.
  const { workflowId, runId } = ctx.info.workflowExecution ?? { workflowId: ctx.info.activityType, runId: ctx.info.activityId };
  const prefix = jobPrefix(workflowId, runId);
  return {
    task,
    file: loaded.file,
    bq: createBigQuery(bigquery),
    location: bigquery.location,
    gzip: bigquery.stagingCompression === 'gzip',
    jobPrefix: prefix,
    target: `${bigquery.project}.${task.dataset}.${task.destination}`,
    staging: { dataset: task.dataset, table: `_bqsync_stage_${task.destination}_${prefix.slice(-16)}` },
    workDir: await fs.mkdtemp(path.join(os.tmpdir(), 'bqsync-')),
    attempt: ctx.info.attempt,
    budget,
    scheduledAt: new Date(ctx.info.scheduledTimestampMs),
    signal: ctx.cancellationSignal,
    heartbeat: (progress) => ctx.heartbeat(progress),
  };
}

/** The staged files go, whatever happened. */
export async function endSync(sync: TableSync): Promise<void> {
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
