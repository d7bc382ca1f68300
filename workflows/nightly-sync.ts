import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { failureType } from '../common/failures';
import { RunState } from './run-state';
import { legacyTableWorkflowId, runStamp, tableWorkflowId } from '../common/workflow-ids';
import { scheduledStartTime, searchAttributes } from '../common/search-attributes';
import { tableSync } from './table-sync';
import type { AddTablesOptions, AddTablesResult, NightlySyncInput, NodeResult, RunSummary, StepTask, TableTask } from '../common/payloads';

const { planRun } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [failureType('ConfigError')] },
  summary: 'discover the tables to sync',
});

/** A step's activity, with a summary that names the step in the Web UI. */
const stepActivity = (step: string) =>
  proxyActivities<Activities>({
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '10s', maximumInterval: '5 minutes', maximumAttempts: 3, nonRetryableErrorTypes: [failureType('ConfigError')] },
    summary: `run the SQL step ${step} in BigQuery`,
  }).runStep;

const { notifyFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  summary: 'report the failed run to the webhook',
});

/** "Sync this table now": adds tables to the running run; returns what became of each. */
export const addTablesUpdate = defineUpdate<AddTablesResult[], [string[], AddTablesOptions?]>('addTables');
/** The live state of every table and step of the run. */
export const statusQuery = defineQuery<RunSummary>('status');

/** Finished nodes per run before continuing as new; keeps history far below its limits. */
const DEFAULT_CONTINUE_AS_NEW_AFTER = 500;

/**
 * One run of a pipeline: plan the tables, then sync each in a child workflow as the DAG
 * and the concurrency limits allow. A failed table does not stop the others; the run
 * fails at the end, with the summary, when any table failed.
 */
export async function nightlySync(input: NightlySyncInput): Promise<RunSummary> {
  const info = workflowInfo();
  const startedAt = input.carried?.startedAt ?? new Date(info.runStartTime).toISOString();
  const continueAfter = input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  // Handlers come first: an update sent with the start arrives before planning is done.
  let state: RunState | undefined;
  let changed = false;
  let draining = false;
  // Set once the run has decided to end: a table added after that would never run.
  let closing = false;

  setHandler(statusQuery, () => (state ? state.summary(startedAt) : emptySummary(input.pipeline, startedAt)));
  setHandler(
    addTablesUpdate,
    async (keys: string[], options?: AddTablesOptions): Promise<AddTablesResult[]> => {
      await condition(() => state !== undefined);
      const run = state!;
      const fullRefresh = options?.fullRefresh || undefined;
      const results: AddTablesResult[] = [];
      const missing: string[] = [];
      for (const key of keys) {
        const known = run.table(key);
        if (known) results.push({ key, outcome: run.requeue({ ...known, fullRefresh }) });
        else missing.push(key);
      }
      if (missing.length > 0) {
        const extra = await planRun({ pipeline: input.pipeline, tables: missing, fullRefresh });
        for (const task of extra.tables) results.push({ key: task.key, outcome: run.requeue(task) });
        for (const u of extra.unknown) results.push({ key: u.key, outcome: 'unknown', message: u.message });
      }
      changed = true;
      return results;
    },
    {
      validator: (keys: string[], _options?: AddTablesOptions) => {
        if (!Array.isArray(keys) || keys.length === 0) throw new Error('name at least one table as source.table');
        const bad = keys.filter((k) => typeof k !== 'string' || !/^[^.]+\..+$/.test(k));
        if (bad.length > 0) throw new Error(`not of the form source.table: ${bad.join(', ')}`);
        if (draining) throw new Error('this run is handing over to its continuation; retry in a few seconds');
        if (closing) throw new Error('this run is finishing; retry in a few seconds');
      },
    },
  );

  const plan = input.carried?.plan ?? (await planRun({ pipeline: input.pipeline, tables: input.tables, fullRefresh: input.fullRefresh }));
  state = new RunState(plan, input.carried?.results);
  const finishedAtStart = state.finishedCount();

  // The date the run belongs to, readable in every child ID (a backfill's is its scheduled time).
  const stamp = input.carried?.stamp ?? runStamp(startedAt, info.typedSearchAttributes.get(scheduledStartTime));
  // A run that an older worker began replays with the child IDs it already used.
  const datedIds = patched('run-dated-table-ids');
  const launchTable = (task: TableTask) => {
    const n = state.runs(task.key) + 1;
    const workflowId = datedIds
      ? tableWorkflowId(input.pipeline, stamp, task.key, n)
      : legacyTableWorkflowId(info.workflowId, startedAt, task.key, n);
    state.markRunning(task.key, new Date().toISOString(), workflowId);
    const began = Date.now();
    void startChild(tableSync, {
      workflowId,
      args: [{ pipeline: input.pipeline, task, heartbeatTimeout: state.plan.heartbeatTimeout }],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: searchAttributes.pipeline, value: input.pipeline },
        { key: searchAttributes.source, value: task.source },
        { key: searchAttributes.table, value: task.key },
        { key: searchAttributes.mode, value: task.mode },
      ],
      staticSummary: `Sync ${task.key} into ${task.dataset}.${task.destination}`,
      staticDetails: describeTable(task),
    })
      .then((child) => child.result())
      .then(
        (outcome) =>
          state.markFinished(task.key, { status: 'succeeded', ...outcome, durationMs: Date.now() - began }),
        (err) => state.markFinished(task.key, { status: 'failed', durationMs: Date.now() - began, ...failureOf(err) }),
      )
      .finally(() => (changed = true));
  };

  const launchStep = (step: StepTask) => {
    state.markRunning(step.key, new Date().toISOString());
    const began = Date.now();
    void stepActivity(step.key)({ pipeline: input.pipeline, step: step.key })
      .then(
        () => state.markFinished(step.key, { status: 'succeeded', durationMs: Date.now() - began }),
        (err) => state.markFinished(step.key, { status: 'failed', durationMs: Date.now() - began, ...failureOf(err) }),
      )
      .finally(() => (changed = true));
  };

  for (;;) {
    const handOver = state.finishedCount() - finishedAtStart >= continueAfter || workflowInfo().continueAsNewSuggested;
    if (handOver) draining = true;
    else {
      const next = state.nextToStart();
      next.tables.forEach(launchTable);
      next.steps.forEach(launchStep);
    }
    if (state.runningCount() === 0 && allHandlersFinished()) {
      if (draining && state.openCount() > 0) {
        await continueAsNew<typeof nightlySync>({
          ...input,
          tables: undefined,
          carried: { startedAt, stamp, plan: state.currentPlan(), results: state.allResults() },
        });
      }
      // Nothing runs and nothing could start: whatever is still open can never run.
      state.skipUnreachable();
      closing = true;
      break;
    }
    changed = false;
    await condition(() => changed);
  }

  const summary = state.summary(startedAt, new Date().toISOString());
  const outcome = summary.failed > 0 ? 'failed' : 'succeeded';
  upsertSearchAttributes([{ key: searchAttributes.outcome, value: outcome }]);
  if (summary.failed > 0) {
    const failed = summary.results.filter((r) => r.status === 'failed');
    // A notification that cannot be delivered is visible in history; the run's outcome stands.
    // (Runs that failed under an older worker replay without it.)
    if (patched('notify-failed-run')) await notifyFailure({ pipeline: input.pipeline, workflowId: info.workflowId, runId: info.runId, summary }).catch(() => undefined);
    throw ApplicationFailure.create({
      type: failureType('TablesFailed'),
      nonRetryable: true,
      message:
        `${summary.failed} of ${summary.results.length} tables/steps failed (${summary.succeeded} succeeded, ` +
        `${summary.skipped} skipped): ${failed.slice(0, 10).map((r) => `${r.key}: ${r.error}`).join(' | ')}` +
        (failed.length > 10 ? ` | and ${failed.length - 10} more` : '') +
        '. Fix the cause, then re-run one table with: bqsync sync <source.table>',
      details: [summary],
    });
  }
  return summary;
}

function emptySummary(pipeline: string, startedAt: string): RunSummary {
  return { pipeline, startedAt, succeeded: 0, failed: 0, skipped: 0, running: 0, pending: 0, rowsLoaded: 0, results: [] };
}

function describeTable(task: TableTask): string {
  const lines = [`**${task.key}** → \`${task.dataset}.${task.destination}\``];
  if (task.description) lines.push(`What: ${task.description}`);
  if (task.owner) lines.push(`Owner: ${task.owner}`);
  if (task.impact) lines.push(`If it stops: ${task.impact}`);
  if (task.after.length) lines.push(`After: ${task.after.join(', ')}`);
  return lines.join('\n\n');
}

/** The operator-facing part of a failure: the innermost message and its type. */
function failureOf(err: unknown): Pick<NodeResult, 'error' | 'errorType'> {
  let e = err as { message?: string; type?: string; cause?: unknown } | undefined;
  if (err instanceof ChildWorkflowFailure) e = err.cause as typeof e;
  while (e?.cause && (e as { type?: string }).type === undefined) e = e.cause as typeof e;
  return { error: e?.message ?? String(err), errorType: e?.type ?? 'Error' };
}
