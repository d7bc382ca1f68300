import { Context } from '@temporalio/activity';
import type { LoadedConfig } from '../../config/load';
import type { TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import { GOOGLE_BIGQUERY_ENDPOINT, isBigQueryUnreachable } from '../../bigquery/unreachable';
import { SourceConnectionLost } from '../../sources/connection-lost';
import { stagingSpaceFault } from './disk-full';

/**
 * Faults of the world around the sync (a source connection cut, BigQuery out of reach) as
 * one line that names the table and what was lost; they stay retryable. Others pass as they are.
 */
export function readableFault(err: unknown, task: TableTask, loaded: LoadedConfig): unknown {
  const attempt = Context.current().info.attempt;
  if (err instanceof SourceConnectionLost) {
    return failure('SourceConnectionLost', `${task.key}: the connection to source "${task.source}" was lost while reading the table (${err.reason}) in attempt ${attempt}. ` +
        "A retry reads the table again; if it repeats, the database server's log says who ended the connection");
  }
  const space = stagingSpaceFault(err, task, attempt);
  if (space) return space;
  if (isBigQueryUnreachable(err)) {
    const endpoint = loaded.config.bigquery.endpoint ?? GOOGLE_BIGQUERY_ENDPOINT;
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    return failure('BigQueryUnreachable', `${task.key}: BigQuery was unreachable at ${endpoint} (${reason}) in attempt ${attempt}. ` +
        'A retry reuses the load jobs that landed; if it lasts, check the network path to BigQuery');
  }
  return err;
}
