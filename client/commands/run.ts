import { Client, WorkflowExecutionAlreadyStartedError, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { RunSummary } from '../../common/payloads';
import type { LoadedConfig } from '../../config/load';
import { nightlySync } from '../../workflows';
import { searchAttributes } from '../../common/search-attributes';
import { resultThroughRestarts } from '../await-result';
import { findRunningRun, RunRef } from '../running-run';
import { summaryFromFailure } from '../run-failure';
import { formatSummary } from '../summary-format';
import { webUiLink } from '../../common/web-ui';
import { pipelineWorkflowId } from '../../common/workflow-ids';
import { connectClient, ensureSearchAttributes, warnIfNoWorker } from '../temporal';

/** Starts a pipeline run now; with `wait`, prints the summary and returns 1 if a table failed. */
export async function runCommand(
  loaded: LoadedConfig,
  pipeline: string,
  wait: boolean,
  json = false,
  fullRefresh = false,
  sessionTime?: string,
): Promise<number> {
  const { config } = loaded;
  const client = await connectClient(config);
  try {
    await ensureSearchAttributes(client, config);
    await warnIfNoWorker(client, config);
    const running = await findRunningRun(client, config, pipeline);
    if (running) return alreadyRunning(loaded, pipeline, running);
    const handle = await startRun(client, loaded, pipeline, fullRefresh, sessionTime);
    if (!handle) return 2;
    const workflowId = handle.workflowId;
    const started = { pipeline, workflowId, runId: handle.firstExecutionRunId, link: webUiLink(config.temporal, workflowId, handle.firstExecutionRunId) };
    if (!json) {
      console.log(`started ${workflowId} (run ${started.runId})`);
      console.log(`Web UI: ${started.link}`);
    }
    if (!wait) {
      if (json) console.log(JSON.stringify(started, null, 2));
      return 0;
    }
    return await reportResult(() => handle.result(), config.temporal.address, started, json);
  } finally {
    await client.connection.close();
  }
}

/** Starts the pipeline's run; undefined, having said so, when another start won. */
async function startRun(client: Client, loaded: LoadedConfig, pipeline: string, fullRefresh: boolean, sessionTime?: string): Promise<WorkflowHandleWithFirstExecutionRunId<typeof nightlySync> | undefined> {
  const { config } = loaded;
  const workflowId = pipelineWorkflowId(pipeline);
  const p = config.pipelines[pipeline];
  try {
    return await client.workflow.start(nightlySync, {
      workflowId,
      taskQueue: config.temporal.taskQueue,
      args: [{ pipeline, fullRefresh: fullRefresh || undefined, sessionTime }],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [{ key: searchAttributes.pipeline, value: pipeline }],
      staticSummary: `Sync pipeline ${pipeline}: ${p.sources.join(', ')} into BigQuery`,
      staticDetails: [p.description, p.owner && `Owner: ${p.owner}`, p.impact && `If it stops: ${p.impact}`].filter(Boolean).join('\n\n'),
    });
  } catch (err) {
    // Started by someone else since the check for a running run.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const { runId } = await client.workflow.getHandle(workflowId).describe();
      alreadyRunning(loaded, pipeline, { workflowId, runId });
      return undefined;
    }
    throw err;
  }
}

/** Waits for the run's end and prints its summary; 1 when it failed. */
async function reportResult(result: () => Promise<RunSummary>, address: string, started: object, json: boolean): Promise<number> {
  try {
    const summary = await resultThroughRestarts(result, address);
    console.log(json ? JSON.stringify({ ...started, status: 'succeeded', summary }, null, 2) : formatSummary(summary));
    return 0;
  } catch (err) {
    const summary = summaryFromFailure(err);
    // The innermost cause says what went wrong (a failed plan arrives wrapped in its activity's failure).
    let inner = err as Error & { cause?: Error };
    while (inner.cause) inner = inner.cause as typeof inner;
    const reason = inner.message;
    if (json) console.log(JSON.stringify({ ...started, status: 'failed', error: reason, summary }, null, 2));
    else {
      if (summary) console.log(formatSummary(summary));
      console.error(`run failed: ${reason}`);
    }
    return 1;
  }
}

function alreadyRunning(loaded: LoadedConfig, pipeline: string, run: RunRef): number {
  console.error(
    `pipeline ${pipeline} is already running: ${webUiLink(loaded.config.temporal, run.workflowId, run.runId)}\n` +
      'to sync one table now, use: bqsync sync <source.table>',
  );
  return 2;
}

