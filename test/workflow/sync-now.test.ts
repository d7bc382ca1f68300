/**
 * "Sync now" (the addTables update) and continue-as-new, with mocked activities on a real
 * Temporal dev server: a table already running or queued is not queued twice, a finished
 * one runs again, and a run that hands over to its continuation carries what was queued
 * and what had finished.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { addTablesUpdate, nightlySync, statusQuery } from '../../workflows';
import type { AddTablesResult, RunSummary } from '../../common/payloads';
import { extraTables, MockActivities, node, plan, startWorkflowEnv, table, until, WorkflowTestEnv } from '../helpers/workflow-env';

const mocks = new MockActivities();
let t: WorkflowTestEnv;

beforeAll(async () => {
  t = await startWorkflowEnv(mocks);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const byKey = (results: AddTablesResult[]) => Object.fromEntries(results.map((r) => [r.key, r.message ? `${r.outcome}: ${r.message}` : r.outcome]));

test('a table already running or queued is not queued again; a new one is; an unknown one is refused with the reason', async () => {
  const ordersGate = mocks.gate();
  const customersGate = mocks.gate();
  const refundsGate = mocks.gate();
  mocks.add('syncnow', {
    plan: plan('syncnow', [table('shop.orders'), table('shop.order_items', ['shop.orders']), table('shop.customers')]),
    extra: extraTables('syncnow', [table('shop.refunds')]),
    tables: {
      'shop.orders': { gate: ordersGate.promise, rows: 500 },
      'shop.customers': { gate: customersGate.promise },
      'shop.refunds': { gate: refundsGate.promise },
    },
  });
  const handle = await t.env.client.workflow.start(nightlySync, { workflowId: 'bqsync-syncnow', taskQueue: t.taskQueue, args: [{ pipeline: 'syncnow' }] });
  await until(() => mocks.runningNow('syncnow').length === 2, 'shop.orders and shop.customers to run');

  const first = await handle.executeUpdate(addTablesUpdate, { args: [['shop.orders', 'shop.order_items', 'shop.refunds', 'shop.nope']] });
  expect(byKey(first)).toEqual({
    'shop.orders': 'already-running',
    'shop.order_items': 'already-queued',
    'shop.refunds': 'queued',
    'shop.nope': "unknown: shop.nope: no such table in the pipeline's sources",
  });
  // Asked for again: each answered, none queued twice (shop.refunds may have started by now).
  const again = await handle.executeUpdate(addTablesUpdate, { args: [['shop.orders', 'shop.refunds', 'shop.orders']] });
  expect(again.map((r) => r.outcome)).toEqual(['already-running', expect.stringMatching(/^already-(queued|running)$/), 'already-running']);
  // Only the table it did not know went to the planner.
  expect(mocks.callsOf('syncnow', 'planRun').map((c) => (c.input as { tables?: string[] }).tables)).toEqual([undefined, ['shop.refunds', 'shop.nope']]);

  // A malformed request is refused before it reaches the run.
  const refused = await handle.executeUpdate(addTablesUpdate, { args: [['orders']] }).catch((e) => e);
  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((refused as WorkflowUpdateFailedError).cause?.message).toBe('not of the form source.table: orders');

  // A table that finished in this run runs again when asked for.
  ordersGate.resolve();
  await until(async () => node(await handle.query(statusQuery), 'shop.orders').status === 'succeeded', 'shop.orders to land');
  const rerun = await handle.executeUpdate(addTablesUpdate, { args: [['shop.orders']] });
  expect(byKey(rerun)).toEqual({ 'shop.orders': 'queued' });
  customersGate.resolve();
  refundsGate.resolve();

  const summary: RunSummary = await handle.result();
  expect(summary).toMatchObject({ succeeded: 4, failed: 0, skipped: 0 });
  expect(node(summary, 'shop.orders')).toMatchObject({ status: 'succeeded', runs: 2 });
  // The second sync of a table in a run has its own workflow ID.
  expect(node(summary, 'shop.orders').workflowId).toMatch(/\.shop\.orders\.2$/);
  expect(node(summary, 'shop.refunds')).toMatchObject({ status: 'succeeded', runs: 1 });
  expect(node(summary, 'shop.order_items')).toMatchObject({ status: 'succeeded', runs: 1 });
  const synced = (key: string) => mocks.callsOf('syncnow', 'syncTable', key).length;
  expect([synced('shop.orders'), synced('shop.order_items'), synced('shop.refunds'), synced('shop.customers')]).toEqual([2, 1, 1, 1]);
  // Never two syncs of one table at once.
  const events = mocks.events.get('syncnow')!.filter((e) => e.endsWith(':shop.orders'));
  expect(events).toEqual(['start:shop.orders', 'end:shop.orders', 'start:shop.orders', 'end:shop.orders']);
});

test('continue-as-new carries the queued "sync now" requests and the finished results into the next run', async () => {
  const hold = mocks.gate();
  const tables = [1, 2, 3, 4].map((i) => table(`shop.t${i}`));
  mocks.add('handover', {
    // One table at a time, so that the run hands over with tables still to go.
    plan: plan('handover', tables, { perSource: { shop: 1 }, global: 1 }),
    extra: extraTables('handover', [table('shop.late')]),
    tables: { 'shop.t1': { gate: hold.promise, rows: 100 }, 'shop.t2': { rows: 200 }, 'shop.late': { rows: 5 } },
  });
  const handle = await t.env.client.workflow.start(nightlySync, {
    workflowId: 'bqsync-handover',
    taskQueue: t.taskQueue,
    args: [{ pipeline: 'handover', continueAsNewAfter: 2 }],
  });
  await until(() => mocks.runningNow('handover').includes('shop.t1'), 'shop.t1 to run');
  // Queued while t1 runs: it waits behind the limit and must survive the handover.
  expect(byKey(await handle.executeUpdate(addTablesUpdate, { args: [['shop.late']] }))).toEqual({ 'shop.late': 'queued' });
  const firstStartedAt = (await handle.query(statusQuery)).startedAt;
  hold.resolve();

  const summary: RunSummary = await handle.result();
  expect(summary).toMatchObject({ pipeline: 'handover', startedAt: firstStartedAt, succeeded: 5, failed: 0, skipped: 0, rowsLoaded: 100 + 200 + 10 + 10 + 5 });
  for (const key of ['shop.t1', 'shop.t2', 'shop.t3', 'shop.t4', 'shop.late']) expect(node(summary, key)).toMatchObject({ status: 'succeeded', runs: 1 });
  // Each table ran once in all, across the runs.
  expect(mocks.callsOf('handover', 'syncTable').map((c) => c.key).sort()).toEqual(['shop.late', 'shop.t1', 'shop.t2', 'shop.t3', 'shop.t4']);
  // The plan was carried too, not asked for again.
  expect(mocks.callsOf('handover', 'planRun')).toHaveLength(2);

  const first = await t.env.client.workflow.getHandle('bqsync-handover', handle.firstExecutionRunId).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');
  const latest = await t.env.client.workflow.getHandle('bqsync-handover').describe();
  expect(latest.runId).not.toBe(handle.firstExecutionRunId);
  expect(latest.status.name).toBe('COMPLETED');
  // The continuation's input: the results so far and the plan with the queued table.
  const history = await t.env.client.workflow.getHandle('bqsync-handover', handle.firstExecutionRunId).fetchHistory();
  const last = history.events![history.events!.length - 1];
  const carried = JSON.parse(Buffer.from(last.workflowExecutionContinuedAsNewEventAttributes!.input!.payloads![0].data!).toString()).carried;
  expect(carried.results.filter((r: { status: string }) => r.status === 'succeeded').map((r: { key: string }) => r.key).sort()).toEqual(['shop.t1', 'shop.t2']);
  expect(carried.plan.tables.map((x: { key: string }) => x.key)).toContain('shop.late');
  expect(carried.results.find((r: { key: string }) => r.key === 'shop.late').status).toMatch(/^(waiting|queued)$/);
});

describe('continue-as-new stalls the run', () => {
  test('a held table does not stop other tables or "sync now" across the handover', async () => {
    const hold = mocks.gate();
    const quick = [1, 2, 3, 4, 5].map((i) => table(`shop.q${i}`));
    mocks.add('stall', {
      plan: plan('stall', [table('shop.long'), ...quick], { perSource: { shop: 2 }, global: 2 }),
      extra: extraTables('stall', [table('shop.now')]),
      tables: { 'shop.long': { gate: hold.promise, rows: 100 }, ...Object.fromEntries(quick.map((q) => [q.key, { ms: 50, rows: 1 }])) },
    });
    const handle = await t.env.client.workflow.start(nightlySync, {
      workflowId: 'bqsync-stall',
      taskQueue: t.taskQueue,
      args: [{ pipeline: 'stall', continueAsNewAfter: 2 }],
    });
    const landed = async (keys: string[]) => {
      const s = await handle.query(statusQuery);
      return keys.every((k) => s.results.find((r) => r.key === k)?.status === 'succeeded') && s;
    };
    // Handovers happen every 2 finished tables, while shop.long keeps running.
    const s = await until(() => landed(quick.map((q) => q.key)), 'the other tables to land while shop.long runs');
    expect(node(s, 'shop.long').status).toBe('running');
    expect((await t.env.client.workflow.count(`WorkflowId = 'bqsync-stall'`)).count).toBeGreaterThan(1);
    // "Sync now" is accepted by the continued run, and the table runs beside the held one.
    expect(byKey(await handle.executeUpdate(addTablesUpdate, { args: [['shop.now']] }))).toEqual({ 'shop.now': 'queued' });
    await until(() => landed(['shop.now']), 'shop.now to land while shop.long runs');
    expect(mocks.runningNow('stall')).toEqual(['shop.long']);
    hold.resolve();

    const summary: RunSummary = await t.env.client.workflow.getHandle('bqsync-stall').result();
    expect(summary).toMatchObject({ succeeded: 7, failed: 0, skipped: 0, rowsLoaded: 100 + 5 + 10 });
    expect(node(summary, 'shop.long')).toMatchObject({ status: 'succeeded', runs: 1, rowsLoaded: 100 });
    expect(mocks.callsOf('stall', 'syncTable').map((c) => c.key).sort()).toEqual(['shop.long', 'shop.now', 'shop.q1', 'shop.q2', 'shop.q3', 'shop.q4', 'shop.q5']);
  });
});

describe('continue-as-new stalls the run: cancelling', () => {
  test('table syncs outlive a handover, not a cancelled run: the run cancels them', async () => {
    const hold = mocks.gate();
    mocks.add('cancelled', { plan: plan('cancelled', [table('shop.long')]), tables: { 'shop.long': { gate: hold.promise } } });
    const handle = await t.env.client.workflow.start(nightlySync, { workflowId: 'bqsync-cancelled', taskQueue: t.taskQueue, args: [{ pipeline: 'cancelled' }] });
    await until(() => mocks.runningNow('cancelled').includes('shop.long'), 'shop.long to run');
    const child = node(await handle.query(statusQuery), 'shop.long').workflowId!;
    await handle.cancel();
    const status = await until(async () => {
      const s = (await t.env.client.workflow.getHandle(child).describe()).status.name;
      return s !== 'RUNNING' && s;
    }, 'the table sync to close');
    expect(['CANCELLED', 'FAILED']).toContain(status);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    hold.resolve();
  });
});
