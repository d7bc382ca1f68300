import { Client, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Config } from '../../config/schema';
import { resultThroughRestarts } from '../await-result';
import { findRunningRun } from '../running-run';
import type { LoadedConfig } from '../../config/load';
import { addTablesUpdate, nightlySync, statusQuery } from '../../workflows';
import { searchAttributes } from '../../common/search-attributes';
import type { AddTablesResult, NodeResult } from '../../common/payloads';
import { collectProgress, ProgressView } from '../progress';
import { estimateRows } from '../row-estimates';
import { formatSummary } from '../summary-format';
import { webUiLink } from '../../common/web-ui';
import { pipelineWorkflowId } from '../../common/workflow-ids';
import { connectClient, ensureSearchAttributes, warnIfNoWorker } from '../temporal';

/** Adds the tables to bqsync-<pipeline>, starting it (empty) first when it is not running. */
async function updateWithStart(
  client: Client,
  config: Config,
  pipeline: string,
  workflowId: string,
  keys: string[],
  fullRefresh: boolean,
  summary = `Sync now: ${keys.join(', ')}`,
): Promise<AddTablesResult[]> {
  const startOp = new WithStartWorkflowOperation(nightlySync, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    // Starts empty: the update adds the tables, so its answer reads the same either way.
    args: [{ pipeline, tables: [] }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: searchAttributes.pipeline, value: pipeline }],
    staticSummary: summary,
  });
  return client.workflow.executeUpdateWithStart(addTablesUpdate, { args: [keys, { fullRefresh }], startWorkflowOperation: startOp });
}

/** The run refused the tables because it is ending, or ended between finding it and asking it. */
function runIsEnding(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  const cause = (err as { cause?: { message?: string } } | undefined)?.cause?.message ?? '';
  return err instanceof WorkflowUpdateFailedError && /retry in a few seconds/.test(cause);
}

export interface SyncOptions {
  json?: boolean;
  /** The run whose failed tables these are (`bqsync retry`), for the JSON answer. */
  retryOf?: { workflowId: string; runId: string };
  /** The Web UI summary of a run this call starts. */
  summary?: string;
  /** Rebuild the tables from every source row, whatever their mode. */
  fullRefresh?: boolean;
}

const OUTCOME_TEXT: Record<AddTablesResult['outcome'], string> = {
  queued: 'queued',
  'already-queued': 'already queued in this run',
  'already-running': 'already running in this run',
  unknown: 'not synced',
};

/**
 * "Sync this table now": adds the tables to the pipeline's running run (scheduled or not),
 * or starts a run of just these tables in one atomic call (update-with-start), so that a
 * table never runs twice at once.
 */
export async function syncCommand(
  loaded: LoadedConfig,
  keys: string[],
  pipeline: string,
  wait: boolean,
  options: SyncOptions = {},
): Promise<number> {
  const { config } = loaded;
  const client = await connectClient(config);
  try {
    await ensureSearchAttributes(client, config);
    await warnIfNoWorker(client, config);
    let outcomes: AddTablesResult[] | undefined;
    let workflowId = pipelineWorkflowId(pipeline);
    // A run that is ending (or handing over to its continuation) asks to be asked again.
    for (let attempt = 1; !outcomes; attempt++) {
      try {
        // A scheduled run has its own ID; join it when it is the one running.
        const running = await findRunningRun(client, config, pipeline);
        if (running) {
          workflowId = running.workflowId;
          outcomes = await client.workflow.getHandle(workflowId).executeUpdate(addTablesUpdate, { args: [keys, { fullRefresh: options.fullRefresh }] });
        } else {
          workflowId = pipelineWorkflowId(pipeline);
          outcomes = await updateWithStart(client, config, pipeline, workflowId, keys, Boolean(options.fullRefresh), options.summary);
        }
      } catch (err) {
        if (attempt >= 15 || !runIsEnding(err)) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    const link = webUiLink(config.temporal, workflowId, runId);
    const anyUnknown = outcomes.some((o) => o.outcome === 'unknown');
    if (!options.json) {
      for (const o of outcomes) console.log(`${o.key}: ${OUTCOME_TEXT[o.outcome]}${o.message ? `: ${o.message}` : ''}`);
      console.log(`run: ${link}`);
    }
    const answer = { pipeline, workflowId, runId, link, retryOf: options.retryOf, tables: outcomes };
    if (anyUnknown || !wait) {
      if (options.json) console.log(JSON.stringify(answer, null, 2));
      return anyUnknown ? 1 : 0;
    }

    const show = options.json ? 'quiet' : process.stdout.isTTY ? 'bars' : 'lines';
    const estimates = show === 'quiet' ? new Map<string, number>() : await estimateRows(loaded, keys);
    const results = await followTables(client, config.temporal.address, workflowId, keys, show, estimates);
    if (options.json) console.log(JSON.stringify({ ...answer, results }, null, 2));
    return results.every((r) => r.status === 'succeeded') ? 0 : 1;
  } finally {
    await client.connection.close();
  }
}

/**
 * Follows the run's live state until every requested table has finished, showing rows
 * and rows/s per table (from the activities' heartbeats); prints the summary at the end.
 */
async function followTables(
  client: Client,
  address: string,
  workflowId: string,
  keys: string[],
  show: 'bars' | 'lines' | 'quiet',
  estimates: Map<string, number>,
): Promise<NodeResult[]> {
  const wanted = new Set(keys);
  const quiet = show === 'quiet';
  const view = quiet ? undefined : new ProgressView(show === 'bars');
  let closedBefore = false;
  try {
    for (;;) {
      const status = await client.workflow.getHandle(workflowId).query(statusQuery).catch(() => undefined);
      const mine: NodeResult[] = (status?.results ?? []).filter((r) => wanted.has(r.key));
      if (view && mine.length) view.update(await collectProgress(client, mine, estimates));
      const done = mine.length === wanted.size && mine.every((r) => ['succeeded', 'failed', 'skipped'].includes(r.status));
      if (status && done) {
        view?.stop();
        if (!quiet) console.log(formatSummary({ ...status, results: mine }));
        return mine;
      }
      // A run terminated or cancelled from outside never finishes these tables: stop waiting.
      const { status: runStatus } = await resultThroughRestarts(() => client.workflow.getHandle(workflowId).describe(), address);
      const closed = runStatus.name !== 'RUNNING' && runStatus.name !== 'CONTINUED_AS_NEW';
      // The run may have finished between the query and this look: read its final state once more.
      if (closed && !closedBefore) {
        closedBefore = true;
        continue;
      }
      if (closed) {
        view?.stop();
        const error = `the run ended ${runStatus.name.toLowerCase()} before the table finished`;
        const open = [...wanted].filter((k) => !mine.some((r) => r.key === k && ['succeeded', 'failed', 'skipped'].includes(r.status)));
        if (!quiet) console.error(`${error}: ${open.join(', ')}`);
        return [...mine.filter((r) => !open.includes(r.key)), ...open.map((key) => ({ key, kind: 'table' as const, status: 'failed' as const, error }))];
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    view?.stop();
  }
}
