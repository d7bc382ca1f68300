import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { failureType } from '../common/failures';
import { RunState } from './run-state';
import { legacyTableWorkflowId, pipelineWorkflowId, runStamp, tableWorkflowId } from '../common/workflow-ids';
import { scheduledStartTime, searchAttributes } from '../common/search-attributes';
import { tableSync } from './table-sync';
import { tableWaitingSignal } from './table-waiting';
import { retryPolicy, STEP_RETRY_DEFAULTS } from '../common/retry-settings';
import type { AddTablesOptions, AddTablesResult, NightlySyncInput, NodeResult, PipelineRequirement, RunDeadline, RunLateness, RunSummary, StepTask, TableTask } from '../common/payloads';

const { planRun } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [failureType('ConfigError')] },
  summary: 'discover the tables to sync',
});

/**
 * A step's activity, with a summary that names the step in the Web UI. It heartbeats while
 * it polls its job, so a lost worker is noticed after the pipeline's heartbeat timeout.
 */
const stepActivity = (step: StepTask, heartbeatTimeout = '1 minute') =>
  proxyActivities<Activities>({
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: heartbeatTimeout as Duration,
    // The step's retry: (runs planned before it existed: the defaults it has).
    retry: retryPolicy(step.retry ?? STEP_RETRY_DEFAULTS, [failureType('ConfigError')]),
    summary: `run the SQL step ${step.key} in BigQuery`,
  }).runStep;

/** A table sync that an earlier execution of the run started, awaited through the client. */
const { awaitTableSync } = proxyActivities<Activities>({
  // As long as a table may wait for its lock and then sync; a silent worker is noticed sooner.
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumInterval: '1 minute' },
  summary: 'await a table sync started before the run continued as new',
});

const { notifyFailure } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  summary: 'report the failed run to the webhook',
});

/** Other pipelines' tables (requires:): a long wait, heartbeating as it polls. */
const { awaitPipelineTables } = proxyActivities<Activities>({
  startToCloseTimeout: '2 days',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', maximumInterval: '1 minute', nonRetryableErrorTypes: [failureType('DependencyTimeout')] },
  summary: 'wait for the tables this pipeline requires from another pipeline\'s run',
});

const { notifyLate } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  summary: 'report the run past its deadline to the webhook',
});

/** "Sync this table now": adds tables to the running run; returns what became of each. */
export const addTablesUpdate = defineUpdate<AddTablesResult[], [string[], AddTablesOptions?]>('addTables');
/** The live state of every table and step of the run. */
export const statusQuery = defineQuery<RunSummary>('status');

/** Finished nodes per run before continuing as new; keeps history far below its limits. */
const DEFAULT_CONTINUE_AS_NEW_AFTER = 500;

/** What the parts of a run share: its state and the flags its loop and handlers watch. */
interface Run {
  input: NightlySyncInput;
  startedAt: string;
  state?: RunState;
  /** Something finished or was added: the loop looks again. */
  changed: boolean;
  /** Handing over to a continuation: nothing new starts, requests are refused. */
  draining: boolean;
  /** The run has decided to end: a table added now would never run. */
  closing: boolean;
  /**
   * Table syncs outlive a handover (ParentClosePolicy ABANDON; the run cancels them itself
   * when it is cancelled), so a continuation neither waits for every running table nor
   * refuses "sync now". Runs that an older worker began replay without.
   */
  childrenSurvive: boolean;
  /** Children whose start is not yet confirmed: a handover waits for them. */
  starting: number;
  /** SQL steps running now: they are activities of this execution, so a handover waits for them. */
  stepsRunning: number;
  /** Set once the run passed its `sla:` deadline while still going. */
  late?: RunLateness;
  /** What the run waits for before it starts (requires:). */
  waitingFor?: string;
}

/**
 * One run of a pipeline: plan the tables, then sync each in a child workflow as the DAG
 * and the concurrency limits allow. A failed table does not stop the others; the run
 * fails at the end, with the summary, when any table failed.
 */
export async function nightlySync(input: NightlySyncInput): Promise<RunSummary> {
  const info = workflowInfo();
  const run: Run = {
    input,
    startedAt: input.carried?.startedAt ?? new Date(info.runStartTime).toISOString(),
    late: input.carried?.late,
    changed: false,
    draining: false,
    closing: false,
    childrenSurvive: false,
    starting: 0,
    stepsRunning: 0,
  };
  // Handlers come first: an update sent with the start arrives before planning is done.
  setHandlers(run);
  // The date the run belongs to, readable in every child ID (a backfill's is its scheduled time).
  // It is also the run's session time (a manual run's start, or its --session-time).
  const stamp = input.carried?.stamp ?? runStamp(input.sessionTime ?? run.startedAt, info.typedSearchAttributes.get(scheduledStartTime));
  const plan =
    input.carried?.plan ??
    (await planRun({ pipeline: input.pipeline, tables: input.tables, fullRefresh: input.fullRefresh, startedAt: run.startedAt, sessionTime: stamp }));
  const state = (run.state = new RunState(plan, input.carried?.results));
  // (Runs begun before deadlines existed replay without the watch; their plans hold none.)
  if (plan.sla && !run.late && patched('sla-deadline')) void watchDeadline(run, state, plan.sla);
  // Other pipelines' tables first (a continuation has waited already); older runs' plans hold none.
  if (plan.requires?.length && !input.carried && patched('pipeline-requires')) await awaitRequirements(run, state, plan.requires);
  // A run that an older worker began replays with the child IDs it already used: built on
  // the pipeline's run ID whatever the run's own (which two runs of one run time shared), or
  // before that dated by start time.
  const byRun = patched('table-ids-by-run');
  const dated = byRun || patched('run-dated-table-ids');
  const idBase = byRun ? info.workflowId : pipelineWorkflowId(input.pipeline);
  const childId = (key: string, n: number) =>
    dated ? tableWorkflowId(idBase, stamp, key, n) : legacyTableWorkflowId(info.workflowId, run.startedAt, key, n);
  run.childrenSurvive = patched('children-survive-handover');
  try {
    if (run.childrenSurvive) awaitCarriedTables(run, state);
    await runDag(run, state, stamp, childId);
  } catch (err) {
    if (run.childrenSurvive && isCancellation(err)) await cancelRunningTables(state);
    throw err;
  }
  const summary = withLateness(run, state.summary(run.startedAt, new Date().toISOString()));
  upsertSearchAttributes([{ key: searchAttributes.outcome, value: summary.failed > 0 ? 'failed' : 'succeeded' }]);
  if (summary.failed > 0) await failRun(input.pipeline, summary);
  return summary;
}

/** The status query, and the addTables update ("sync this table now"). */
function setHandlers(run: Run): void {
  setHandler(tableWaitingSignal, ({ key, workflowId, message }) => run.state?.markWaiting(key, workflowId, message));
  setHandler(statusQuery, () => withLateness(run, run.state ? run.state.summary(run.startedAt) : emptySummary(run.input.pipeline, run.startedAt)));
  setHandler(addTablesUpdate, (keys: string[], options?: AddTablesOptions) => addTables(run, keys, options), {
    validator: (keys: string[], _options?: AddTablesOptions) => {
      if (!Array.isArray(keys) || keys.length === 0) throw new Error('name at least one table as source.table');
      const bad = keys.filter((k) => typeof k !== 'string' || !/^[^.]+\..+$/.test(k));
      if (bad.length > 0) throw new Error(`not of the form source.table: ${bad.join(', ')}`);
      // (Only runs begun by an older worker drain before a handover.)
      if (run.draining) throw new Error('this run is handing over to its continuation; retry in a few seconds');
      if (run.closing) throw new Error('this run is finishing; retry in a few seconds');
    },
  });
}

/** Queues each table once: known ones again, others after planning them. */
async function addTables(run: Run, keys: string[], options?: AddTablesOptions): Promise<AddTablesResult[]> {
  await condition(() => run.state !== undefined);
  const state = run.state!;
  const fullRefresh = options?.fullRefresh || undefined;
  const results: AddTablesResult[] = [];
  const missing: string[] = [];
  for (const key of keys) {
    const known = state.table(key);
    if (known) results.push({ key, outcome: state.requeue({ ...known, fullRefresh }) });
    else missing.push(key);
  }
  if (missing.length > 0) {
    const extra = await planRun({ pipeline: run.input.pipeline, tables: missing, fullRefresh });
    for (const task of extra.tables) results.push({ key: task.key, outcome: state.requeue(task) });
    for (const u of [...extra.unknown, ...(extra.conflicts ?? [])]) results.push({ key: u.key, outcome: 'unknown', message: u.message });
  }
  run.changed = true;
  return results;
}

/**
 * Starts nodes as the DAG and the limits allow until nothing runs and nothing can start,
 * or hands over to a continuation when history has grown enough.
 */
async function runDag(run: Run, state: RunState, stamp: string, childId: (key: string, n: number) => string): Promise<void> {
  const finishedAtStart = state.finishedCount();
  const continueAfter = run.input.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  const handOverDue = () => state.finishedCount() - finishedAtStart >= continueAfter || workflowInfo().continueAsNewSuggested;
  // What a handover waits for: children confirmed, no step of this execution running, no handler busy.
  const mayHandOver = () =>
    run.childrenSurvive && handOverDue() && state.openCount() > 0 && run.stepsRunning === 0 && run.starting === 0 && allHandlersFinished();
  const launchReady = (withSteps: boolean) => {
    const next = state.nextToStart();
    next.tables.forEach((task) => launchTable(run, state, task, childId(task.key, state.runs(task.key) + 1), stamp));
    if (withSteps) next.steps.forEach((step) => launchStep(run, state, step, stamp));
  };
  for (;;) {
    if (run.childrenSurvive) {
      // Tables keep starting until the handover; steps (activities of this execution) wait for it.
      const due = handOverDue();
      launchReady(!due);
      if (due && mayHandOver()) await continueAsNew<typeof nightlySync>(continuation(run, state, stamp));
    } else if (handOverDue()) run.draining = true;
    else launchReady(true);
    if (state.runningCount() === 0 && allHandlersFinished()) {
      if (run.draining && state.openCount() > 0) await continueAsNew<typeof nightlySync>(continuation(run, state, stamp));
      // Nothing runs and nothing could start: whatever is still open can never run.
      state.skipUnreachable();
      run.closing = true;
      return;
    }
    run.changed = false;
    // A handover that waits only for a handler (a "sync now" being planned) goes once it ends.
    await condition(() => run.changed || mayHandOver());
  }
}

/** The next execution's input: the plan as it stands and every node's result or state. */
function continuation(run: Run, state: RunState, stamp: string): NightlySyncInput {
  return { ...run.input, tables: undefined, carried: { startedAt: run.startedAt, stamp, plan: state.currentPlan(), results: state.allResults(), late: run.late } };
}

/**
 * Waits for the run's deadline; if the run still goes then, marks it late (search attribute
 * BqsyncLate = "late", the status and the summary) and tells the webhook, once: the mark is
 * carried over continue-as-new, so a continuation does not tell it again.
 */
async function watchDeadline(run: Run, state: RunState, sla: RunDeadline): Promise<void> {
  const left = Date.parse(sla.deadline) - Date.now();
  if (left > 0 && (await condition(() => run.closing, left))) return;
  if (run.closing || run.late) return;
  run.late = { ...sla, notedAt: new Date().toISOString() };
  upsertSearchAttributes([{ key: searchAttributes.late, value: 'late' }]);
  const info = workflowInfo();
  // A message that cannot be delivered is visible in history; the run goes on.
  await notifyLate({ pipeline: run.input.pipeline, workflowId: info.workflowId, runId: info.runId, summary: withLateness(run, state.summary(run.startedAt)) }).catch(() => undefined);
}

function withLateness(run: Run, summary: RunSummary): RunSummary {
  const withLate = run.late ? { ...summary, late: run.late } : summary;
  return run.waitingFor ? { ...withLate, waitingFor: run.waitingFor } : withLate;
}

/**
 * Waits, before anything starts, for the tables other pipelines' runs of the same session
 * date must land (requires:); the status says what it waits for. Past a requirement's
 * timeout the run fails as DependencyTimeout with nothing started.
 */
async function awaitRequirements(run: Run, state: RunState, requires: PipelineRequirement[]): Promise<void> {
  for (const r of requires) {
    run.waitingFor = `waiting for ${r.pipeline}: ${r.tables.join(', ')} (session date ${r.sessionDate})`;
    try {
      await awaitPipelineTables({ pipeline: run.input.pipeline, requirement: r, giveUpAt: new Date(Date.now() + r.timeoutMs).toISOString() });
    } catch (err) {
      run.waitingFor = undefined;
      const { error } = failureOf(err);
      upsertSearchAttributes([{ key: searchAttributes.outcome, value: 'failed' }]);
      throw ApplicationFailure.create({ type: failureType('DependencyTimeout'), nonRetryable: true, message: error ?? String(err), details: [withLateness(run, state.summary(run.startedAt, new Date().toISOString()))] });
    }
  }
  run.waitingFor = undefined;
}

/** Table syncs still running when the run continued as new: their ends, awaited through the client. */
function awaitCarriedTables(run: Run, state: RunState): void {
  for (const r of state.allResults()) {
    if (r.kind !== 'table' || r.status !== 'running' || !r.workflowId) continue;
    const { key, workflowId } = r;
    const began = r.startedAt ? Date.parse(r.startedAt) : Date.now();
    void awaitTableSync(workflowId)
      .then(
        (end) =>
          state.markFinished(key, end.status === 'succeeded' ? { status: 'succeeded', ...end.outcome, durationMs: Date.now() - began } : { ...end, durationMs: Date.now() - began }),
        (err) => state.markFinished(key, { status: 'failed', durationMs: Date.now() - began, ...failureOf(err) }),
      )
      .finally(() => (run.changed = true));
  }
}

/** The run was cancelled: its table syncs (which would outlive it) are cancelled too. */
async function cancelRunningTables(state: RunState): Promise<void> {
  const ids = state.allResults().filter((r) => r.kind === 'table' && r.status === 'running' && r.workflowId).map((r) => r.workflowId!);
  await CancellationScope.nonCancellable(() => Promise.all(ids.map((id) => getExternalWorkflowHandle(id).cancel().catch(() => undefined))));
}

/**
 * Starts a table's sync as a child workflow, with its search attributes and Web UI summary;
 * a table with a `where:` gets the run's session time for its session values.
 */
function launchTable(run: Run, state: RunState, task: TableTask, workflowId: string, sessionTime: string): void {
  const { pipeline } = run.input;
  state.markRunning(task.key, new Date().toISOString(), workflowId);
  const began = Date.now();
  run.starting++;
  void startChild(tableSync, {
    workflowId,
    args: [{ pipeline, task: task.where ? { ...task, sessionTime } : task, heartbeatTimeout: state.plan.heartbeatTimeout, ...(state.plan.retry ? { retry: state.plan.retry } : {}), sourceConcurrency: state.plan.sourceConcurrency[task.source] }],
    parentClosePolicy: run.childrenSurvive ? ParentClosePolicy.ABANDON : ParentClosePolicy.REQUEST_CANCEL,
    typedSearchAttributes: [
      { key: searchAttributes.pipeline, value: pipeline },
      { key: searchAttributes.source, value: task.source },
      { key: searchAttributes.table, value: task.key },
      { key: searchAttributes.mode, value: task.mode },
    ],
    staticSummary: `Sync ${task.key} into ${task.dataset}.${task.destination}`,
    staticDetails: describeTable(task),
  })
    .finally(() => {
      run.starting--;
      // Only a pending handover waits for this; older runs' loops replay woken as they were.
      if (run.childrenSurvive) run.changed = true;
    })
    .then((child) => child.result())
    .then(
      (outcome) => state.markFinished(task.key, { status: 'succeeded', ...outcome, durationMs: Date.now() - began }),
      (err) => state.markFinished(task.key, { status: 'failed', durationMs: Date.now() - began, ...failureOf(err) }),
    )
    .finally(() => (run.changed = true));
}

/** Runs a SQL step as an activity, with the run's session time for its session values. */
function launchStep(run: Run, state: RunState, step: StepTask, sessionTime: string): void {
  state.markRunning(step.key, new Date().toISOString());
  const began = Date.now();
  run.stepsRunning++;
  void stepActivity(step, state.plan.heartbeatTimeout)({ pipeline: run.input.pipeline, step: step.key, sessionTime })
    .then(
      () => state.markFinished(step.key, { status: 'succeeded', durationMs: Date.now() - began }),
      (err) => state.markFinished(step.key, { status: 'failed', durationMs: Date.now() - began, ...failureOf(err) }),
    )
    .finally(() => {
      run.stepsRunning--;
      run.changed = true;
    });
}

/** Reports the failed run to the webhook, then fails it with the summary in its details. */
async function failRun(pipeline: string, summary: RunSummary): Promise<never> {
  const info = workflowInfo();
  const failed = summary.results.filter((r) => r.status === 'failed');
  // A notification that cannot be delivered is visible in history; the run's outcome stands.
  // (Runs that failed under an older worker replay without it.)
  if (patched('notify-failed-run')) await notifyFailure({ pipeline, workflowId: info.workflowId, runId: info.runId, summary }).catch(() => undefined);
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
  // Only a table sync left running by a terminated run can hold this run's ID for the table.
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return {
      error: `the table sync ${err.workflowId} is still running (its run was ended while it went on); wait for it to end, or cancel it, then sync the table again`,
      errorType: 'Error',
    };
  }
  let e = err as { message?: string; type?: string; cause?: unknown } | undefined;
  if (err instanceof ChildWorkflowFailure) e = err.cause as typeof e;
  while (e?.cause && (e as { type?: string }).type === undefined) e = e.cause as typeof e;
  return { error: e?.message ?? String(err), errorType: e?.type ?? 'Error' };
}
