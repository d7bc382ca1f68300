import { Context } from '@temporalio/activity';
import type { LoadedConfig } from '../config/load';
import { createBigQuery, ensureDataset } from '../bigquery/client';
import { awaitJob, BigQueryJobFailed } from '../bigquery/jobs';
import { configFailure } from '../common/failures';

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

/** Runs one BigQuery SQL step of a pipeline (a mart table, a view) as a query job. */
export function makeRunStep(loaded: LoadedConfig) {
  return async function runStep(input: RunStepInput): Promise<{ jobId: string }> {
    const { config, file } = loaded;
    const step = config.pipelines[input.pipeline]?.steps.find((s) => s.name === input.step);
    if (!step) throw configFailure(`step "${input.step}" of pipeline "${input.pipeline}" is not in ${file}`);
    const datasets = Object.fromEntries(Object.entries(config.sources).map(([n, s]) => [n, s.dataset ?? n]));
    let sql: string;
    try {
      sql = renderStepSql(step.sql, { project: config.bigquery.project, dataset: step.dataset, datasets });
    } catch (err) {
      throw configFailure(`pipelines.${input.pipeline}.steps.${step.name}.sql in ${file}: ${(err as Error).message}`);
    }
    const bq = createBigQuery(config.bigquery);
    if (step.dataset) await ensureDataset(bq, step.dataset, config.bigquery.location);
    const [job] = await bq.createQueryJob({ query: sql, location: config.bigquery.location });
    try {
      await awaitJob(bq, job.id!, () => Context.current().heartbeat());
    } catch (err) {
      if (err instanceof BigQueryJobFailed) {
        throw configFailure(`step ${step.name}: BigQuery rejected the SQL: ${err.reason}; fix it in ${file}`);
      }
      throw err;
    }
    return { jobId: job.id ?? '' };
  };
}
