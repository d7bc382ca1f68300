import { ApplicationFailure } from '@temporalio/common';
import { configFailure, failure } from '../common/failures';
import { bigQueryReason, classifyBigQueryError, refusedSqlHint } from '../bigquery/errors';
import { GOOGLE_BIGQUERY_ENDPOINT } from '../bigquery/unreachable';

export interface StepContext {
  step: string;
  /** `pipelines.<p>.steps.<s>.sql in <file>`: where the SQL is fixed. */
  where: string;
  attempt: number;
  endpoint?: string;
}

/**
 * A SQL step's failure as the operator needs it: SQL BigQuery refused (a syntax error, a
 * table that does not exist) is a ConfigError naming the step and the file, not retried; a
 * busy or unreachable BigQuery stays retryable, so a passing fault does not fail the step.
 */
export function stepFault(err: unknown, ctx: StepContext): unknown {
  if (err instanceof ApplicationFailure) return err;
  const reason = bigQueryReason(err);
  switch (classifyBigQueryError(err)) {
    case 'rejected':
      return configFailure(`step ${ctx.step}: BigQuery refused the SQL (${reason}): ${refusedSqlHint(err)}; fix ${ctx.where}`);
    case 'transient':
      return failure(
        'BigQueryBusy',
        `step ${ctx.step}: BigQuery answered ${reason ?? (err as { code?: unknown }).code} in attempt ${ctx.attempt}; ` +
          'the retry awaits the job this attempt submitted, or runs the SQL again if that job failed',
      );
    case 'unreachable':
      return failure(
        'BigQueryUnreachable',
        `step ${ctx.step}: BigQuery was unreachable at ${ctx.endpoint ?? GOOGLE_BIGQUERY_ENDPOINT} ` +
          `(${(err as { code?: string }).code ?? (err as Error).message}) in attempt ${ctx.attempt}; if it lasts, check the network path to BigQuery`,
      );
    default:
      // Not BigQuery's answer (a bug, a cancelled wait): its message as it is, retried.
      return reason ? new Error(`step ${ctx.step}: BigQuery failed (${reason}) in attempt ${ctx.attempt}`) : err;
  }
}
