import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { Config } from '../../config/schema';
import { findRunningRun } from '../running-run';
import type { LoadedConfig } from '../../config/load';
import { addTablesUpdate, nightlySync, statusQuery } from '../../workflows';
import { searchAttributes } from '../../workflows/search-attributes';
import type { AddTablesResult, NodeResult } from '../../workflows/types';
import { formatSummary } from '../summary-format';
import { connectClient, ensureSearchAttributes, pipelineWorkflowId, warnIfNoWorker, webUiLink } from '../temporal';

/** The pipeline whose sources hold these tables; several candidates need --pipeline. */
export function pipelineForTables(loaded: LoadedConfig, keys: string[], requested?: string): string {
  const { config, file } = loaded;
  if (requested) return requested;
  const sources = new Set(keys.map((k) => k.split('.')[0]));
  for (const s of sources) {
    if (!config.sources[s]) throw new Error(`"${s}" is not a source in ${file}; name tables as source.table`);
  }
  const candidates = Object.entries(config.pipelines)
    .filter(([, p]) => [...sources].every((s) => p.sources.includes(s)))
    .map(([n]) => n);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) throw new Error(`no single pipeline holds all of ${[...sources].join(', ')}; sync them separately`);
  throw new Error(`pipelines ${candidates.join(', ')} all hold these tables; choose one with --pipeline`);
}

/** Adds the tables to bqsync-<pipeline>, starting it (empty) first when it is not running. */
async function updateWithStart(
  client: Client,
  config: Config,
  pipeline: string,
  workflowId: string,
  keys: string[],
  fullRefresh: boolean,
): Promise<AddTablesResult[]> {
  const startOp = new WithStartWorkflowOperation(nightlySync, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    // Starts empty: the update adds the tables, so its answer reads the same either way.
    args: [{ pipeline, tables: [] }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: searchAttributes.pipeline, value: pipeline }],
    staticSummary: `Sync now: ${keys.join(', ')}`,
  });
  return client.workflow.executeUpdateWithStart(addTablesUpdate, { args: [keys, { fullRefresh }], startWorkflowOperation: startOp });
}

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
  fullRefresh = false,
): Promise<number> {
  const { config } = loaded;
  const client = await connectClient(config);
  try {
    await ensureSearchAttributes(client, config);
    await warnIfNoWorker(client, config);
    // A scheduled run has its own ID; join it when it is the one running.
    const running = await findRunningRun(client, config, pipeline);
    let outcomes: AddTablesResult[];
    let workflowId: string;
    if (running) {
      workflowId = running.workflowId;
      outcomes = await client.workflow.getHandle(workflowId).executeUpdate(addTablesUpdate, { args: [keys, { fullRefresh }] });
    } else {
      workflowId = pipelineWorkflowId(pipeline);
      outcomes = await updateWithStart(client, config, pipeline, workflowId, keys, fullRefresh);
    }
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    for (const o of outcomes) {
      const text =
        o.outcome === 'unknown'
          ? `not synced: ${o.message}`
          : o.outcome === 'already-running'
            ? 'already running in this run'
            : o.outcome === 'already-queued'
              ? 'already queued in this run'
              : 'queued';
      console.log(`${o.key}: ${text}`);
    }
    console.log(`run: ${webUiLink(config, workflowId, runId)}`);
    if (outcomes.some((o) => o.outcome === 'unknown')) return 1;
    if (!wait) return 0;

    // Follow the run's live state until every requested table has finished.
    const wanted = new Set(keys);
    for (;;) {
      const status = await client.workflow.getHandle(workflowId).query(statusQuery).catch(() => undefined);
      const mine: NodeResult[] = (status?.results ?? []).filter((r) => wanted.has(r.key));
      const done = mine.length === wanted.size && mine.every((r) => ['succeeded', 'failed', 'skipped'].includes(r.status));
      if (status && done) {
        console.log(formatSummary({ ...status, results: mine }));
        return mine.every((r) => r.status === 'succeeded') ? 0 : 1;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await client.connection.close();
  }
}
