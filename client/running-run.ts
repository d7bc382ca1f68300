import { Client } from '@temporalio/client';
import type { Config } from '../config/schema';
import { searchAttributes } from '../common/search-attributes';

export interface RunRef {
  workflowId: string;
  runId: string;
}

/**
 * The pipeline's run in progress, if any: started by `run`/`sync` (ID bqsync-<pipeline>) or
 * by its schedule (ID bqsync-<pipeline>-<time>). Found by search attribute, not by ID.
 */
export async function findRunningRun(client: Client, config: Config, pipeline: string): Promise<RunRef | undefined> {
  const query = `WorkflowType = 'nightlySync' AND ${searchAttributes.pipeline.name} = '${pipeline}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query, pageSize: 10 })) {
    if (wf.taskQueue === config.temporal.taskQueue) return { workflowId: wf.workflowId, runId: wf.runId };
  }
  return undefined;
}
