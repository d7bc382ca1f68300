import { Context } from '@temporalio/activity';
import type { LoadedConfig } from '../config/load';
import { createBigQuery, ensureDataset } from '../bigquery/client';
import { awaitJob, QueryParams, submitQueryOnce } from '../bigquery/jobs';
import { pipelineSessionValues } from '../config/session';
import { bigQueryLiteral, SESSION_VALUE_NAMES, SESSION_VALUE_TYPES, SessionValues } from '../common/session-time';
import { stepJobId, stepJobPrefix } from '../bigquery/job-ids';
import { configFailure } from '../common/failures';
import { crashPoint } from './table-sync/crash-point';
import { stepFault } from './step-fault';

export interface RunStepInput {
  pipeline: string;
  step: string;
  /** The run's session time (ISO 8601): its scheduled time, or its start for a manual run. */
  sessionTime?: string;
}

const isSessionName = (name: string): name is (typeof SESSION_VALUE_NAMES)[number] => (SESSION_VALUE_NAMES as string[]).includes(name);

/**
 * Replaces `{{project}}`, `{{dataset}}` and `{{datasets.<source>}}` in a step's SQL, and
 * `{{session_date}}` and the other session values with typed literals built from the values
 * themselves (`DATE '2026-11-25'`; the `_compact` ones and `session_unixtime` as digits).
 */
export function renderStepSql(
  sql: string,
  vars: { project: string; dataset?: string; datasets: Record<string, string>; session?: SessionValues },
): string {
  return sql.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (whole, name: string) => {
    if (name === 'project') return vars.project;
    if (name === 'dataset' && vars.dataset) return vars.dataset;
    if (name.startsWith('datasets.') && vars.datasets[name.slice(9)]) return vars.datasets[name.slice(9)];
    if (vars.session && isSessionName(name)) return bigQueryLiteral(name, vars.session);
    throw new Error(`unknown placeholder ${whole}`);
  });
}

/** The session values the SQL names as `@session_date` etc., as BigQuery query parameters. */
export function sessionQueryParams(sql: string, session: SessionValues): QueryParams {
  const values: QueryParams['values'] = {};
  const types: QueryParams['types'] = {};
  for (const [, name] of sql.matchAll(/@([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!isSessionName(name) || name in values) continue;
    const type = SESSION_VALUE_TYPES[name];
    values[name] = session[name] as string | number;
    types[name] = type === 'DIGITS' ? 'STRING' : type;
  }
  return { values, types };
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
    const ctx = Context.current();
    // A step scheduled by a run begun before session times were passed: its first scheduling, the same in every attempt.
    const sessionTime = input.sessionTime ?? new Date(ctx.info.scheduledTimestampMs).toISOString();
    let sql: string;
    let params: QueryParams;
    try {
      const session = pipelineSessionValues(config.pipelines[input.pipeline], sessionTime);
      sql = renderStepSql(step.sql, { project: config.bigquery.project, dataset: step.dataset, datasets, session });
      params = sessionQueryParams(sql, session);
    } catch (err) {
      throw configFailure(`${where}: ${(err as Error).message}`);
    }
    const { location } = config.bigquery;
    try {
      const bq = createBigQuery(config.bigquery);
      if (step.dataset) await ensureDataset(bq, step.dataset, location);
      const prefix = stepJobPrefix(stepExecution(ctx), step.name);
      const job = await submitQueryOnce(bq, sql, (n) => stepJobId(prefix, n), location, params);
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
