import { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { Config } from '../config/schema';
import { statusQuery } from '../workflows';
import type { RunSummary } from '../common/payloads';
import { summaryFromFailure } from './run-failure';
import { webUiLink } from '../common/web-ui';
import { searchAttributes } from '../common/search-attributes';

/** One run of a pipeline as an operator thinks of it: a continue-as-new chain counts once. */
export interface RunRecord {
  pipeline: string;
  workflowId: string;
  /** The run ID of the chain's last execution (the one that holds the outcome). */
  runId: string;
  status: 'running' | 'succeeded' | 'failed' | 'terminated' | 'canceled' | 'timed out';
  startedAt: string;
  closedAt?: string;
  durationMs?: number;
  succeeded?: number;
  failed?: number;
  skipped?: number;
  /** Tables and steps in the run. */
  nodes?: number;
  failedKeys: string[];
  /** The run passed its `sla:` deadline before it ended. */
  late?: boolean;
  link: string;
  summary?: RunSummary;
}

const STATUS: Record<string, RunRecord['status']> = {
  RUNNING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  TERMINATED: 'terminated',
  CANCELLED: 'canceled',
  TIMED_OUT: 'timed out',
};

/** A pipeline name from the command line, checked before it goes into a visibility query. */
function checkedName(pipeline: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(pipeline)) throw new Error(`"${pipeline}" is not a pipeline name`);
  return pipeline;
}

/**
 * The run's summary: the result of a run that succeeded, the failure details of one that
 * failed, the live state of one that runs. Terminated or timed-out runs have none.
 */
export async function runSummary(client: Client, workflowId: string, runId: string, running: boolean): Promise<RunSummary | undefined> {
  if (running) return client.workflow.getHandle(workflowId, runId).query(statusQuery).catch(() => undefined);
  return client.workflow.result(workflowId, runId, { followRuns: false }).then(
    (summary) => summary as RunSummary,
    (err: unknown) => summaryFromFailure(err),
  );
}

type Execution = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes'>;

export async function toRunRecord(client: Client, config: Config, wf: Execution): Promise<RunRecord> {
  const status = STATUS[wf.status.name] ?? 'failed';
  const summary = await runSummary(client, wf.workflowId, wf.runId, status === 'running');
  const pipeline = wf.typedSearchAttributes.get(searchAttributes.pipeline) ?? summary?.pipeline ?? '';
  // After continue-as-new the summary keeps the chain's first start time.
  const startedAt = summary?.startedAt ?? wf.startTime.toISOString();
  const closedAt = wf.closeTime?.toISOString();
  const count = (s: string) => summary?.results.filter((r) => r.status === s).length;
  return {
    pipeline,
    workflowId: wf.workflowId,
    runId: wf.runId,
    status,
    startedAt,
    closedAt,
    durationMs: closedAt ? Date.parse(closedAt) - Date.parse(startedAt) : Date.now() - Date.parse(startedAt),
    succeeded: count('succeeded'),
    failed: count('failed'),
    skipped: count('skipped'),
    nodes: summary?.results.length,
    failedKeys: summary?.results.filter((r) => r.status === 'failed').map((r) => r.key) ?? [],
    late: summary?.late !== undefined || wf.typedSearchAttributes.get(searchAttributes.late) === 'late' || undefined,
    link: webUiLink(config.temporal, wf.workflowId, wf.runId),
    summary,
  };
}

/**
 * The latest runs, newest first, from Temporal's visibility store. Executions that handed
 * over to a continuation are left out: the chain's last execution stands for the run.
 */
export async function listRuns(client: Client, config: Config, pipeline: string | undefined, limit: number): Promise<RunRecord[]> {
  let query = `WorkflowType = 'nightlySync' AND ExecutionStatus != 'ContinuedAsNew' AND TaskQueue = '${config.temporal.taskQueue.replace(/'/g, '')}'`;
  if (pipeline) query += ` AND ${searchAttributes.pipeline.name} = '${checkedName(pipeline)}'`;
  const found: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
    found.push(wf);
    if (found.length >= limit) break;
  }
  found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  return Promise.all(found.map((wf) => toRunRecord(client, config, wf)));
}

/**
 * A run named on the command line: "last" (the pipeline's latest run), a workflow ID (its
 * latest execution), or a workflow ID and a run ID.
 */
export async function resolveRun(client: Client, config: Config, run: string, runId: string | undefined, pipeline?: string): Promise<RunRecord> {
  if (run === 'last') {
    if (!pipeline) throw new Error('"last" needs a pipeline: bqsync retry last --pipeline <name>');
    const [latest] = await listRuns(client, config, pipeline, 1);
    if (!latest) throw new Error(`pipeline ${pipeline} has no runs on ${config.temporal.address}`);
    return latest;
  }
  const handle = client.workflow.getHandle(run, runId);
  const described = await handle.describe().catch((err: Error) => {
    throw new Error(`no run ${run}${runId ? ` (run ID ${runId})` : ''} on ${config.temporal.address}: ${err.message}`);
  });
  if (described.type !== 'nightlySync') {
    throw new Error(`${run} is a ${described.type} workflow, not a pipeline run; name the run (e.g. bqsync-nightly) or "last"`);
  }
  return toRunRecord(client, config, described);
}
