import type { LoadedConfig } from '../../config/load';
import { statusQuery } from '../../workflows';
import type { RunSummary } from '../../common/payloads';
import { findRunningRun } from '../running-run';
import { formatSummary } from '../summary-format';
import { webUiLink } from '../../common/web-ui';
import { pipelineWorkflowId } from '../../common/workflow-ids';
import { connectClient } from '../temporal';
import { operatorAction } from '../../common/failures';
import { searchAttributes } from '../../common/search-attributes';

/** The live state of each table of the pipeline's running run (or its last run). */
export async function statusCommand(loaded: LoadedConfig, pipeline: string, json: boolean): Promise<number> {
  const { config } = loaded;
  const client = await connectClient(config);
  try {
    const running = await findRunningRun(client, config, pipeline);
    const workflowId = running?.workflowId ?? pipelineWorkflowId(pipeline);
    let summary: RunSummary;
    try {
      summary = await client.workflow.getHandle(workflowId).query(statusQuery);
    } catch (err) {
      console.error(`no run of pipeline ${pipeline} to show (${(err as Error).message}); start one with: bqsync run ${pipeline}`);
      return 1;
    }
    if (json) console.log(JSON.stringify({ workflowId, inProgress: Boolean(running), ...summary }, null, 2));
    else {
      console.log(`${running ? 'running' : 'last run'}: ${webUiLink(config.temporal, workflowId, running?.runId)}`);
      console.log(formatSummary(summary));
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}

export interface FailedTable {
  table: string;
  source: string;
  pipeline: string;
  workflowId: string;
  closedAt?: string;
  errorType: string;
  message: string;
  /** What the operator should do about this type of failure (common/failures.ts). */
  action?: string;
  attempts: number;
  link: string;
}

/** Parses "24h", "7d", "90m" into milliseconds. */
export function parseSince(text: string): number {
  const m = /^(\d+)\s*(m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`--since takes a number and m, h or d, e.g. 24h; got "${text}"`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** The history events activityAttempts reads. */
interface ActivityEvent {
  eventId?: unknown;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { attempt?: number | null; scheduledEventId?: unknown } | null;
}

/**
 * How many times the table's own activity (syncTable, not the write lock's request) ran.
 * Temporal writes no event for a retry: an activity's one ActivityTaskStarted event carries
 * the number of its last attempt.
 */
export function activityAttempts(events: ActivityEvent[]): number {
  const syncScheduled = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncTable').map((e) => String(e.eventId)),
  );
  return events
    .filter((e) => e.activityTaskStartedEventAttributes && syncScheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .reduce((n, e) => n + (e.activityTaskStartedEventAttributes!.attempt ?? 1), 0);
}

/** Every table sync that failed in the window, with its message, attempts and Web UI link. */
export async function failuresCommand(loaded: LoadedConfig, since: string, json: boolean): Promise<number> {
  const { config } = loaded;
  const from = new Date(Date.now() - parseSince(since)).toISOString();
  const client = await connectClient(config);
  try {
    const failed: FailedTable[] = [];
    const query = `WorkflowType = 'tableSync' AND ${searchAttributes.outcome.name} = 'failed' AND CloseTime > '${from}'`;
    for await (const wf of client.workflow.list({ query })) {
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const events = history.events ?? [];
      const attempts = activityAttempts(events);
      const lastFailure = [...events].reverse().find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes
        ?.failure;
      const get = (key: (typeof searchAttributes)[keyof typeof searchAttributes]) => wf.typedSearchAttributes.get(key) ?? '';
      failed.push({
        table: get(searchAttributes.table),
        source: get(searchAttributes.source),
        pipeline: get(searchAttributes.pipeline),
        workflowId: wf.workflowId,
        closedAt: wf.closeTime?.toISOString(),
        errorType: lastFailure?.applicationFailureInfo?.type ?? 'Error',
        message: lastFailure?.message ?? '(no activity failure recorded)',
        action: operatorAction(lastFailure?.applicationFailureInfo?.type),
        attempts: Math.max(attempts, 1),
        link: webUiLink(config.temporal, wf.workflowId, wf.runId),
      });
    }
    if (json) console.log(JSON.stringify(failed, null, 2));
    else if (failed.length === 0) console.log(`no failed table syncs since ${from}`);
    else {
      for (const f of failed) {
        console.log(`${f.table} (${f.pipeline}) failed ${f.closedAt} after ${f.attempts} attempt(s)`);
        console.log(`  ${f.errorType}: ${f.message}`);
        if (f.action) console.log(`  what to do: ${f.action}`);
        console.log(`  ${f.link}`);
      }
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}
