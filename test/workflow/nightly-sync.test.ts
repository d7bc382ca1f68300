/**
 * The pipeline run's orchestration, with mocked activities on a real Temporal dev server:
 * DAG order, concurrency limits, failure isolation, skipped dependents, retries, and what
 * the operator reads in the run's result. The scenarios start together in beforeAll and
 * each test checks one of them, so the file takes as long as its slowest scenario (a
 * retry's 15 s backoff), not their sum.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NON_RETRYABLE_TYPES } from '../../common/failures';
import { nightlySync, statusQuery } from '../../workflows';
import type { RunSummary } from '../../common/payloads';
import { Deferred, MockActivities, node, plan, startWorkflowEnv, step, table, until, WorkflowTestEnv } from '../helpers/workflow-env';

const mocks = new MockActivities();
let t: WorkflowTestEnv;

/** Each scenario's run, started in beforeAll: its summary, or the failure it ended with. */
const runs = new Map<string, Promise<{ summary?: RunSummary; failure?: WorkflowFailedError }>>();

/** Inputs beyond the pipeline's name, per scenario. */
const extraInput: Record<string, { sessionTime?: string }> = { session: { sessionTime: '2026-11-24T22:00:00.000Z' } };

function start(pipeline: string): void {
  const outcome = t.env.client.workflow
    .execute(nightlySync, { workflowId: `bqsync-${pipeline}`, taskQueue: t.taskQueue, args: [{ pipeline, ...extraInput[pipeline] }] })
    .then(
      (summary) => ({ summary }),
      (err) => {
        if (err instanceof WorkflowFailedError) return { failure: err };
        throw err;
      },
    );
  // Awaited by the test that checks it; an unobserved rejection must not end the process.
  outcome.catch(() => undefined);
  runs.set(pipeline, outcome);
}

const succeeded = async (pipeline: string) => {
  const r = await runs.get(pipeline)!;
  if (r.failure) throw new Error(`run ${pipeline} failed: ${r.failure.cause?.message}`);
  return r.summary!;
};

const failedWith = async (pipeline: string) => {
  const r = await runs.get(pipeline)!;
  if (!r.failure) throw new Error(`run ${pipeline} succeeded: ${JSON.stringify(r.summary)}`);
  return r.failure;
};

// Tables that hold until the test has looked at the run's state.
const dagGate = mocks.gate();
const isolationGate = mocks.gate();
const sourceGate = mocks.gate();
const runGate = mocks.gate();
const five = (source: string) => [1, 2, 3, 4, 5].map((i) => table(`${source}.t${i}`));

mocks.add('dag', {
  plan: plan(
    'dag',
    [
      table('shop.order_items', ['shop.orders']),
      table('shop.orders', ['shop.customers']),
      table('shop.customers'),
      table('billing.invoices'),
    ],
    { steps: [step('revenue', ['shop.orders', 'billing.invoices'])] },
  ),
  tables: {
    'shop.customers': { gate: dagGate.promise, rows: 2000 },
    'billing.invoices': { gate: dagGate.promise, rows: 150 },
    'shop.orders': { rows: 20000 },
  },
});

mocks.add('perSource', {
  plan: plan('perSource', [...five('shop'), ...five('billing')], { perSource: { shop: 2, billing: 3 }, global: 10 }),
  tables: Object.fromEntries([...five('shop'), ...five('billing')].map((x) => [x.key, { gate: sourceGate.promise }])),
});

mocks.add('perRun', {
  plan: plan('perRun', [...five('shop'), ...five('billing')], { perSource: { shop: 2, billing: 3 }, global: 3 }),
  tables: Object.fromEntries([...five('shop'), ...five('billing')].map((x) => [x.key, { gate: runGate.promise }])),
});

mocks.add('isolation', {
  plan: plan(
    'isolation',
    [
      table('shop.orders'),
      table('shop.order_items', ['shop.orders']),
      table('shop.shipments', ['shop.order_items']),
      table('shop.customers'),
      table('billing.invoices'),
      // Waits for a table that succeeds: the failure elsewhere must not keep it from running.
      table('billing.payments', ['billing.invoices']),
    ],
    { steps: [step('revenue', ['shop.shipments', 'billing.invoices'])] },
  ),
  tables: {
    'shop.orders': {
      fail: {
        type: 'SchemaDrift',
        message: 'shop.orders: column total changed from NUMERIC to STRING at the source, which BigQuery cannot widen in place',
      },
    },
    // Still running when orders fails: the failure must not cut it short.
    'billing.invoices': { gate: isolationGate.promise, rows: 150 },
  },
});

// A manual run for a past night (`run --session-time`): its steps and table IDs stand for that night.
mocks.add('session', {
  plan: plan('session', [table('shop.orders')], { steps: [step('daily', ['shop.orders'])] }),
  tables: {},
});

// A deadline (sla:) a few seconds after the start, passed while shop.big is held.
const lateGate = mocks.gate();
mocks.add('late', {
  plan: plan('late', [table('shop.small'), table('shop.big'), table('shop.after_big', ['shop.big'])]),
  tables: { 'shop.big': { gate: lateGate.promise } },
});

// The failure catalogue's list: the retry policy must be the catalogue's, and each type must fail at once.
const NON_RETRYABLE = NON_RETRYABLE_TYPES;
mocks.add('retries', {
  plan: {
    ...plan('retries', [table('shop.flaky'), ...NON_RETRYABLE.map((type) => table(`shop.${type.toLowerCase()}`))]),
    unknown: [{ key: 'shop.nope', message: 'shop.nope: no table "nope" in source shop (MySQL database shop)' }],
  },
  tables: {
    'shop.flaky': { fail: { message: 'read ECONNRESET', attempts: [1] }, rows: 7 },
    ...Object.fromEntries(NON_RETRYABLE.map((type) => [`shop.${type.toLowerCase()}`, { fail: { type, message: `shop.${type.toLowerCase()}: ${type} here` } }])),
  },
});

// The pipeline's retry: of 2 attempts, a second apart; a step's own of 3, a second apart.
mocks.add('retrySetting', {
  plan: {
    ...plan('retrySetting', [table('shop.twice'), table('shop.once')], {
      steps: [step('mart', ['shop.once'], { retry: { attempts: 3, initialInterval: '1s', maximumInterval: '2s' } })],
    }),
    retry: { attempts: 2, initialInterval: '1s', maximumInterval: '1s' },
  },
  tables: {
    'shop.twice': { fail: { message: 'read ECONNRESET', attempts: [1, 2] } },
    'shop.once': { fail: { message: 'read ECONNRESET', attempts: [1] }, rows: 3 },
  },
  steps: { mart: { fail: { message: 'backendError', attempts: [1, 2] } } },
});

beforeAll(async () => {
  t = await startWorkflowEnv(mocks);
  mocks.scenarios.get('late')!.plan.sla = { deadline: new Date(Date.now() + 4000).toISOString(), rule: 'after 4s' };
  for (const pipeline of mocks.scenarios.keys()) start(pipeline);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

test('tables wait for their after: tables, and a step for its inputs', async () => {
  // The two tables without inputs run at the same time; the rest wait for them.
  await until(() => mocks.runningNow('dag').length === 2, 'shop.customers and billing.invoices to run at once');
  expect(mocks.runningNow('dag').sort()).toEqual(['billing.invoices', 'shop.customers']);
  dagGate.resolve();
  const summary = await succeeded('dag');
  const events = mocks.events.get('dag')!;
  const before = (a: string, b: string) => expect(events.indexOf(`end:${a}`)).toBeLessThan(events.indexOf(`start:${b}`));
  before('shop.customers', 'shop.orders');
  before('shop.orders', 'shop.order_items');
  before('shop.orders', 'revenue');
  before('billing.invoices', 'revenue');
  expect(summary).toMatchObject({ pipeline: 'dag', succeeded: 5, failed: 0, skipped: 0, running: 0, pending: 0, rowsLoaded: 22160 });
  expect(node(summary, 'shop.orders')).toMatchObject({ kind: 'table', status: 'succeeded', rowsLoaded: 20000, runs: 1 });
  expect(node(summary, 'revenue')).toMatchObject({ kind: 'step', status: 'succeeded', runs: 1 });
  // Each table's sync is its own workflow, named by the run's date and the table.
  expect(node(summary, 'shop.orders').workflowId).toMatch(/^bqsync-dag\.\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.shop\.orders$/);
  expect(mocks.callsOf('dag', 'notifyFailure')).toEqual([]);
});

test('a run given a session time passes it to its SQL steps and names its table syncs by it', async () => {
  const summary = await succeeded('session');
  expect(node(summary, 'shop.orders').workflowId).toBe('bqsync-session.2026-11-24T22:00:00Z.shop.orders');
  expect(mocks.callsOf('session', 'runStep').map((c) => c.input)).toEqual([{ pipeline: 'session', step: 'daily', sessionTime: '2026-11-24T22:00:00Z' }]);
});

test('a run past its deadline is marked late (status, search attribute) and told to the webhook once', async () => {
  const handle = t.env.client.workflow.getHandle('bqsync-late');
  const status = await until(async () => {
    const s = await handle.query(statusQuery);
    return s.late && mocks.callsOf('late', 'notifyLate').length === 1 && s;
  }, 'the deadline to pass while shop.big is held');
  expect(status.late).toMatchObject({ rule: 'after 4s' });
  expect(node(status, 'shop.big').status).toBe('running');
  const told = mocks.callsOf('late', 'notifyLate')[0].input as { summary: RunSummary };
  // (shop.small may still be running on a busy machine.)
  const open = told.summary.results.filter((r) => r.status === 'running' || r.status === 'waiting').map((r) => r.key);
  expect(open).toEqual(expect.arrayContaining(['shop.after_big', 'shop.big']));
  const described = await handle.describe();
  expect(described.searchAttributes.BqsyncLate).toEqual(['late']);
  lateGate.resolve();
  const summary = await succeeded('late');
  expect(summary.late?.deadline).toBe(status.late!.deadline);
  expect(mocks.callsOf('late', 'notifyLate')).toHaveLength(1);
  // A run without a deadline is never late.
  expect((await succeeded('dag')).late).toBeUndefined();
});

/** Waits until the run's own status says `running` tables run, the rest pending, and the activities agree. */
async function heldAt(pipeline: string, running: number, gate: Deferred): Promise<RunSummary> {
  const handle = t.env.client.workflow.getHandle(`bqsync-${pipeline}`);
  const status = await until(async () => {
    const s = await handle.query(statusQuery);
    return s.running === running && mocks.runningNow(pipeline).length === running && s;
  }, `${running} tables of ${pipeline} running`);
  // The workflow decided what to start in one go; a breach of the limit would show by now.
  await new Promise((r) => setTimeout(r, 500));
  expect(mocks.runningNow(pipeline)).toHaveLength(running);
  expect((await handle.query(statusQuery)).running).toBe(running);
  gate.resolve();
  return status;
}

test('at most `concurrency` tables of a source run at once', async () => {
  const status = await heldAt('perSource', 5, sourceGate);
  expect(status.pending).toBe(5);
  const running = status.results.filter((r) => r.status === 'running').map((r) => r.key);
  expect(running.filter((k) => k.startsWith('shop.'))).toHaveLength(2);
  expect(running.filter((k) => k.startsWith('billing.'))).toHaveLength(3);
  const summary = await succeeded('perSource');
  expect(summary.succeeded).toBe(10);
  expect(mocks.peak.get('perSource')).toEqual({ total: 5, perSource: { shop: 2, billing: 3 } });
});

test('at most the pipeline\'s `concurrency` tables run at once, whatever the sources allow', async () => {
  const status = await heldAt('perRun', 3, runGate);
  expect(status.pending).toBe(7);
  const summary = await succeeded('perRun');
  expect(summary.succeeded).toBe(10);
  expect(mocks.peak.get('perRun')!.total).toBe(3);
  expect(mocks.peak.get('perRun')!.perSource.shop).toBeLessThanOrEqual(2);
});

test('a failed table stops only what waits for it: dependents are skipped with the reason, the run ends failed with the summary', async () => {
  // While billing.invoices still runs, the run already shows the failure and what it blocks.
  const live = await until(async () => {
    const s = await t.env.client.workflow.getHandle('bqsync-isolation').query(statusQuery);
    return s.failed === 1 && s.succeeded === 1 && s.skipped === 3 && s;
  }, 'shop.orders to fail and its dependents to be skipped');
  expect(live).toMatchObject({ running: 1, pending: 1 });
  expect(node(live, 'billing.invoices').status).toBe('running');
  expect(node(live, 'billing.payments').status).toBe('waiting');
  isolationGate.resolve();
  const failure = await failedWith('isolation');
  const cause = failure.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('TablesFailed');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.message).toBe(
    '1 of 7 tables/steps failed (3 succeeded, 3 skipped): shop.orders: shop.orders: column total changed from NUMERIC to STRING ' +
      'at the source, which BigQuery cannot widen in place. Fix the cause, then re-run one table with: bqsync sync <source.table>',
  );
  const summary = cause.details![0] as RunSummary;
  expect(summary).toMatchObject({ pipeline: 'isolation', succeeded: 3, failed: 1, skipped: 3, running: 0, pending: 0 });
  expect(node(summary, 'shop.orders')).toMatchObject({
    status: 'failed',
    errorType: 'SchemaDrift',
    error: 'shop.orders: column total changed from NUMERIC to STRING at the source, which BigQuery cannot widen in place',
  });
  expect(node(summary, 'shop.order_items')).toMatchObject({ status: 'skipped', errorType: 'InputFailed', error: 'skipped: shop.orders did not succeed' });
  expect(node(summary, 'shop.shipments')).toMatchObject({ status: 'skipped', errorType: 'InputFailed', error: 'skipped: shop.order_items did not succeed' });
  expect(node(summary, 'revenue')).toMatchObject({ kind: 'step', status: 'skipped', error: 'skipped: shop.shipments did not succeed' });
  expect(node(summary, 'shop.customers').status).toBe('succeeded');
  expect(node(summary, 'billing.invoices')).toMatchObject({ status: 'succeeded', rowsLoaded: 150 });
  expect(node(summary, 'billing.payments').status).toBe('succeeded');
  // Skipped nodes never started.
  expect(mocks.callsOf('isolation', 'syncTable').map((c) => c.key).sort()).toEqual(['billing.invoices', 'billing.payments', 'shop.customers', 'shop.orders']);
  expect(mocks.callsOf('isolation', 'runStep')).toEqual([]);
  // The webhook got the same summary.
  const notified = mocks.callsOf('isolation', 'notifyFailure');
  expect(notified).toHaveLength(1);
  expect((notified[0].input as { summary: RunSummary }).summary).toEqual(summary);
  // The table's own workflow failed with the activity's type and message, for the Web UI.
  const child = t.env.client.workflow.getHandle(node(summary, 'shop.orders').workflowId!);
  const childFailure = await child.result().catch((e) => e);
  expect(childFailure).toBeInstanceOf(WorkflowFailedError);
  expect((childFailure as WorkflowFailedError).cause).toMatchObject({ type: 'SchemaDrift', message: node(summary, 'shop.orders').error });
});

/** The retry policy a table sync's syncTable activity was scheduled with, from its history. */
async function syncTablePolicy(workflowId: string): Promise<temporal.api.common.v1.IRetryPolicy> {
  const history = await t.env.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = history.events!.find(
    (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncTable',
  )!;
  return scheduled.activityTaskScheduledEventAttributes!.retryPolicy!;
}

test('failures a retry cannot fix fail at once; others are retried with backoff and the table lands', async () => {
  const failure = await failedWith('retries');
  const summary = (failure.cause as ApplicationFailure).details![0] as RunSummary;
  expect(summary).toMatchObject({ succeeded: 1, failed: NON_RETRYABLE.length + 1, skipped: 0 });
  expect(node(summary, 'shop.flaky')).toMatchObject({ status: 'succeeded', rowsLoaded: 7 });
  expect(mocks.callsOf('retries', 'syncTable', 'shop.flaky').map((c) => c.attempt)).toEqual([1, 2]);
  for (const type of NON_RETRYABLE) {
    const key = `shop.${type.toLowerCase()}`;
    expect(node(summary, key)).toMatchObject({ status: 'failed', errorType: type, error: `${key}: ${type} here` });
    expect(mocks.callsOf('retries', 'syncTable', key).map((c) => c.attempt)).toEqual([1]);
  }
  // A table the plan could not find is failed with the planner's reason, and never synced.
  expect(node(summary, 'shop.nope')).toMatchObject({ status: 'failed', errorType: 'UnknownTable', error: 'shop.nope: no table "nope" in source shop (MySQL database shop)' });
  expect(mocks.callsOf('retries', 'syncTable', 'shop.nope')).toEqual([]);

  // The retry policy the table's activity was scheduled with: what the 15 s backoff above came from.
  const policy = await syncTablePolicy(node(summary, 'shop.flaky').workflowId!);
  expect(Number(policy.initialInterval!.seconds)).toBe(15);
  expect(policy.maximumAttempts).toBe(4);
  expect([...policy.nonRetryableErrorTypes!].sort()).toEqual([...NON_RETRYABLE].sort());
});

test("the pipeline's retry: sets the table syncs' attempts and backoff", async () => {
  const failure = await failedWith('retrySetting');
  const summary = (failure.cause as ApplicationFailure).details![0] as RunSummary;
  expect(node(summary, 'shop.once')).toMatchObject({ status: 'succeeded', rowsLoaded: 3 });
  expect(node(summary, 'shop.twice')).toMatchObject({ status: 'failed', error: 'read ECONNRESET' });
  expect(mocks.callsOf('retrySetting', 'syncTable', 'shop.twice').map((c) => c.attempt)).toEqual([1, 2]);
  const policy = await syncTablePolicy(node(summary, 'shop.twice').workflowId!);
  expect(Number(policy.initialInterval!.seconds)).toBe(1);
  expect(Number(policy.maximumInterval!.seconds)).toBe(1);
  expect(policy.maximumAttempts).toBe(2);
  expect([...policy.nonRetryableErrorTypes!].sort()).toEqual([...NON_RETRYABLE].sort());
  // The step failed twice and its third attempt (its own retry:, not the tables') ran it.
  expect(node(summary, 'mart')).toMatchObject({ kind: 'step', status: 'succeeded' });
  expect(mocks.callsOf('retrySetting', 'runStep', 'mart').map((c) => c.attempt)).toEqual([1, 2, 3]);
});
