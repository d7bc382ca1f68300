import { Context } from '@temporalio/activity';
import type { LoadedConfig } from '../config/load';
import { createBigQuery, ensureDataset } from '../bigquery/client';
import { awaitJob, submitQueryOnce } from '../bigquery/jobs';
import { stepJobId, stepJobPrefix } from '../bigquery/job-ids';
import { configFailure } from '../common/failures';
import { crashPoint } from './table-sync/crash-point';
import { stepFault } from './step-fault';

export interface RunStepInput {
  pipeline: string;
  step: string;
}

/** Replaces `{{project}}`, `{{dataset}}` and `{{datasets.<source>}}` in a step's SQL. */
export function renderStepSql(
  sql: string,
  vars: { project: string; dataset?: string; datasets: Record<string, string> },
): string {
  return sql.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (whole, name: string) => {
    if (name === 'project') return vars.project;
    if (name === 'dataset' && vars.dataset) return vars.dataset;
    if (name.startsWith('datasets.') && vars.datasets[name.slice(9)]) return vars.datasets[name.slice(9)];
    throw new Error(`unknown placeholder ${whole}`);
  });
}

/**
 * Runs one BigQuery SQL step of a pipeline (a mart table, a view) as a query job, once:
 * the job's ID is the same in every attempt of the step in its run (job-ids.ts), so a retry
 * after a lost worker awaits the job it submitted instead of running an INSERT twice.
 */
export function makeRunStep(loaded: LoadedConfig) {
  return async function runStep(input: RunStepInput): Promise<{ jobId: string }> {
    const { config, file } = loaded;
    const step = config.pipelines[input.pipeline]?.steps.find((s) => s.name === input.step);
    if (!step) throw configFailure(`step "${input.step}" of pipeline "${input.pipeline}" is not in ${file}`);
    const where = `pipelines.${input.pipeline}.steps.${step.name}.sql in ${file}`;
    const datasets = Object.fromEntries(Object.entries(config.sources).map(([n, s]) => [n, s.dataset ?? n]));
    let sql: string;
    try {
      sql = renderStepSql(step.sql, { project: config.bigquery.project, dataset: step.dataset, datasets });
    } catch (err) {
      throw configFailure(`${where}: ${(err as Error).message}`);
    }
    const ctx = Context.current();
    const { location } = config.bigquery;
    try {
      const bq = createBigQuery(config.bigquery);
      if (step.dataset) await ensureDataset(bq, step.dataset, location);
      const prefix = stepJobPrefix(stepExecution(ctx), step.name);
      const job = await submitQueryOnce(bq, sql, (n) => stepJobId(prefix, n), location);
      if (job.submitted) crashPoint('step-submitted');
      await awaitJob(bq, job.id, () => ctx.heartbeat(), ctx.cancellationSignal, location);
      return { jobId: job.id };
    } catch (err) {
      throw stepFault(err, { step: step.name, where, attempt: ctx.info.attempt, endpoint: config.bigquery.endpoint });
    }
  };
}

/** The run and the activity that run the step: the same in every attempt of it. */
function stepExecution(ctx: Context): { workflowId: string; runId: string; activityId: string } {
  const run = ctx.info.workflowExecution ?? { workflowId: ctx.info.activityType, runId: '' };
  return { ...run, activityId: ctx.info.activityId };
}
