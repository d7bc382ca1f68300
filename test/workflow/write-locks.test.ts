/**
 * The write locks with mocked table activities on a real dev server: one sync per
 * destination table across runs, a source's concurrency across runs, what a waiting table
 * shows, holders that were terminated, and the lock workflow's own continue-as-new.
 */
import { nightlySync, statusQuery, writeLocks } from '../../workflows';
import { GRANTED_SIGNAL, writeLocksWorkflowId } from '../../common/write-locks';
import type { RunPlan, RunSummary, TableTask } from '../../common/payloads';
import { MockActivities, node, startWorkflowEnv, table, until, WorkflowTestEnv } from '../helpers/workflow-env';

const mocks = new MockActivities();
let t: WorkflowTestEnv;

/** A plan whose tables land in `dataset` (scenarios that share a dataset share its tables and source permits). */
const planIn = (pipeline: string, dataset: string, tables: TableTask[], sourceLimit = 8): RunPlan => ({
  pipeline,
  tables: tables.map((x) => ({ ...x, dataset })),
  steps: [],
  sourceConcurrency: { shop: sourceLimit },
  globalConcurrency: 8,
  unknown: [],
});

const sharedGate = mocks.gate();
const sourceGate = mocks.gate();
const killedGate = mocks.gate();
mocks.add('wla', { plan: planIn('wla', 'wl_shared', [table('shop.orders')]), tables: { 'shop.orders': { gate: sharedGate.promise } } });
// Same table, same dataset: attributed to wla's scenario by the mocks, so one event list shows both syncs.
mocks.add('wlb', { plan: planIn('wlb', 'wl_shared', [table('shop.orders')]) });
mocks.add('wlc', { plan: planIn('wlc', 'wl_src', [table('shop.c1'), table('shop.c2')], 1), tables: { 'shop.c1': { gate: sourceGate.promise }, 'shop.c2': { gate: sourceGate.promise } } });
mocks.add('wld', { plan: planIn('wld', 'wl_src', [table('shop.d1'), table('shop.d2')], 1), tables: { 'shop.d1': { gate: sourceGate.promise }, 'shop.d2': { gate: sourceGate.promise } } });
mocks.add('wle', { plan: planIn('wle', 'wl_killed', [table('shop.k')]), tables: { 'shop.k': { gate: killedGate.promise } } });
mocks.add('wlf', { plan: planIn('wlf', 'wl_killed', [table('shop.k')]) });
const sameTimeGate = mocks.gate();
mocks.add('wlg', { plan: planIn('wlg', 'wl_same_time', [table('shop.t')]), tables: { 'shop.t': { gate: sameTimeGate.promise } } });
const leftGate = mocks.gate();
mocks.add('wlh', { plan: planIn('wlh', 'wl_left', [table('shop.l')]), tables: { 'shop.l': { gate: leftGate.promise } } });
const reusedGate = mocks.gate();
mocks.add('wli', { plan: planIn('wli', 'wl_reused', [table('shop.r')]), tables: { 'shop.r': { gate: reusedGate.promise } } });
const staleGate = mocks.gate();
mocks.add('wlj', { plan: planIn('wlj', 'wl_busy', [table('shop.j')], 2), tables: { 'shop.j': { gate: staleGate.promise } } });
const busyTables = Array.from({ length: 30 }, (_, i) => table(`shop.k${i}`));
mocks.add('wlk', { plan: planIn('wlk', 'wl_busy', busyTables, 2), tables: Object.fromEntries(busyTables.map((x) => [x.key, { ms: 150 }])) });

/** How many write-lock grants a table sync received as signals. */
async function grantSignals(workflowId: string): Promise<number> {
  const history = await t.env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === GRANTED_SIGNAL).length;
}

const startRun = (pipeline: string) =>
  t.env.client.workflow.start(nightlySync, { workflowId: `bqsync-${pipeline}`, taskQueue: t.taskQueue, args: [{ pipeline }] });

const status = (pipeline: string) => t.env.client.workflow.getHandle(`bqsync-${pipeline}`).query(statusQuery);
/** A node of a run's live state; undefined while the run is still planning. */
const live = async (pipeline: string, key: string) => (await status(pipeline)).results.find((r) => r.key === key);

beforeAll(async () => {
  t = await startWorkflowEnv(mocks);
  // Started ahead of the first request with a quick holder check and a low handover point,
  // so that the tests see terminated holders freed and the lock state carried over.
  await t.env.client.workflow.start(writeLocks, {
    workflowId: writeLocksWorkflowId(t.taskQueue),
    taskQueue: t.taskQueue,
    args: [{ sweepEvery: '1s', continueAsNewAfterEvents: 60 }],
  });
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('two writers on one table', () => {
  test('a second run of the same table waits for the first sync, says so, and then syncs it', async () => {
    const a = await startRun('wla');
    await until(() => mocks.runningNow('wla').includes('shop.orders'), "wla's sync of shop.orders");
    const b = await startRun('wlb');
    const waiting = await until(async () => (await live('wlb', 'shop.orders'))?.waitingFor, 'wlb to say it waits');
    expect(waiting).toBe(`waiting for wl_shared.orders: being written by ${node(await status('wla'), 'shop.orders').workflowId}`);
    expect(node(await status('wlb'), 'shop.orders').status).toBe('running');
    // Only one sync of the table has begun.
    expect(mocks.callsOf('wla', 'syncTable', 'shop.orders')).toHaveLength(1);
    sharedGate.resolve();
    const [ra, rb]: RunSummary[] = await Promise.all([a.result(), b.result()]);
    expect(node(ra, 'shop.orders').status).toBe('succeeded');
    expect(node(rb, 'shop.orders')).toMatchObject({ status: 'succeeded' });
    expect(node(rb, 'shop.orders').waitingFor).toBeUndefined();
    expect(mocks.events.get('wla')).toEqual(['start:shop.orders', 'end:shop.orders', 'start:shop.orders', 'end:shop.orders']);
    // The first sync had its lock in the request's reply; the one that waited was granted by signal.
    expect(await grantSignals(node(ra, 'shop.orders').workflowId!)).toBe(0);
    expect(await grantSignals(node(rb, 'shop.orders').workflowId!)).toBe(1);
  });

  test("a source's concurrency holds across runs: two runs on a source of concurrency 1 read one table at a time", async () => {
    const c = await startRun('wlc');
    const d = await startRun('wld');
    const waiting = await until(async () => {
      const all = [...(await status('wlc')).results, ...(await status('wld')).results];
      return all.find((r) => r.waitingFor)?.waitingFor;
    }, 'a table to wait for the source');
    expect(waiting).toMatch(/^waiting for source wl_src \(concurrency 1\): read by bqsync-wl[cd]\./);
    // Each run's own limit would let one table of each run read at once; the source's does not.
    await new Promise((r) => setTimeout(r, 1500));
    expect(mocks.runningNow('wlc').length + mocks.runningNow('wld').length).toBe(1);
    sourceGate.resolve();
    const [rc, rd]: RunSummary[] = await Promise.all([c.result(), d.result()]);
    expect([...rc.results, ...rd.results].map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  });

  test('a table sync that was terminated while holding the lock does not hold the table for good', async () => {
    const e = await startRun('wle');
    await until(() => mocks.runningNow('wle').includes('shop.k'), "wle's sync of shop.k");
    const holder = node(await status('wle'), 'shop.k').workflowId!;
    const f = await startRun('wlf');
    await until(async () => (await live('wlf', 'shop.k'))?.waitingFor, 'wlf to wait');
    await t.env.client.workflow.getHandle(holder).terminate('operator stopped it');
    // The holder check frees the table: wlf's sync begins (the mocks count both runs' syncs under wle).
    await until(() => mocks.callsOf('wle', 'syncTable', 'shop.k').length === 2, "wlf's sync to begin after the holder was terminated");
    killedGate.resolve();
    const rf: RunSummary = await f.result();
    expect(node(rf, 'shop.k').status).toBe('succeeded');
    expect(node(rf, 'shop.k').waitingFor).toBeUndefined();
    await e.result().catch(() => undefined);
  });

  test('two runs of one pipeline for the same run time (a schedule and a hand re-run of that night) each sync the table, one after the other', async () => {
    const night = '2026-12-01T02:00:00Z';
    // The scheduled run's ID, as a schedule names it; its run time is the night it stands for.
    const scheduled = await t.env.client.workflow.start(nightlySync, { workflowId: `bqsync-wlg-${night}`, taskQueue: t.taskQueue, args: [{ pipeline: 'wlg', sessionTime: night }] });
    await until(() => mocks.runningNow('wlg').includes('shop.t'), "the scheduled run's sync of shop.t");
    const byHand = await t.env.client.workflow.start(nightlySync, { workflowId: 'bqsync-wlg', taskQueue: t.taskQueue, args: [{ pipeline: 'wlg', sessionTime: night }] });
    const waiting = await until(async () => {
      const n = (await byHand.query(statusQuery)).results.find((r) => r.key === 'shop.t');
      return n?.waitingFor ?? (n?.status === 'failed' ? `failed: ${n.error}` : undefined);
    }, 'the re-run to wait for the table');
    const first = node(await scheduled.query(statusQuery), 'shop.t').workflowId!;
    expect(waiting).toBe(`waiting for wl_same_time.t: being written by ${first}`);
    sameTimeGate.resolve();
    const [rs, rh]: RunSummary[] = await Promise.all([scheduled.result(), byHand.result()]);
    expect([node(rs, 'shop.t').status, node(rh, 'shop.t').status]).toEqual(['succeeded', 'succeeded']);
    expect(node(rh, 'shop.t').workflowId).not.toBe(first);
    expect(mocks.events.get('wlg')).toEqual(['start:shop.t', 'end:shop.t', 'start:shop.t', 'end:shop.t']);
  });

  test('a re-run whose table sync is still running from a terminated run of the same run time says so and what to do', async () => {
    const night = '2026-12-02T02:00:00Z';
    const first = await t.env.client.workflow.start(nightlySync, { workflowId: 'bqsync-wlh', taskQueue: t.taskQueue, args: [{ pipeline: 'wlh', sessionTime: night }] });
    await until(() => mocks.runningNow('wlh').includes('shop.l'), "the first run's sync of shop.l");
    const left = node(await first.query(statusQuery), 'shop.l').workflowId!;
    await first.terminate('operator ended the run');
    const again = await t.env.client.workflow.start(nightlySync, { workflowId: 'bqsync-wlh', taskQueue: t.taskQueue, args: [{ pipeline: 'wlh', sessionTime: night }] });
    const failed = await again.result().then(
      () => undefined,
      (err) => err.cause?.details?.[0] as RunSummary,
    );
    expect(node(failed!, 'shop.l')).toMatchObject({
      status: 'failed',
      error: `the table sync ${left} is still running (its run was ended while it went on); wait for it to end, or cancel it, then sync the table again`,
    });
    leftGate.resolve();
    await t.env.client.workflow.getHandle(left).result();
  });

  test('a lock left by a terminated table sync is freed although a new sync of the same ID runs (a night re-run by hand after both were terminated)', async () => {
    const night = '2026-12-03T02:00:00Z';
    const start = () => t.env.client.workflow.start(nightlySync, { workflowId: 'bqsync-wli', taskQueue: t.taskQueue, args: [{ pipeline: 'wli', sessionTime: night }] });
    const first = await start();
    await until(() => mocks.runningNow('wli').includes('shop.r'), "the first run's sync of shop.r");
    const syncId = node(await first.query(statusQuery), 'shop.r').workflowId!;
    // The operator ends the run and its table sync, which had no time to give its lock back.
    await t.env.client.workflow.getHandle(syncId).terminate('operator ended it');
    await first.terminate('operator ended it');
    reusedGate.resolve();
    const again = await start();
    // The same run time, so the same table sync ID: the holder check must tell the two runs apart.
    const done = await until(async () => {
      const n = (await again.query(statusQuery)).results.find((r) => r.key === 'shop.r');
      return n?.status === 'succeeded' || n?.status === 'failed' ? n : undefined;
    }, 're-run of shop.r to end');
    expect(done).toMatchObject({ status: 'succeeded', workflowId: syncId });
    expect(mocks.callsOf('wli', 'syncTable', 'shop.r')).toHaveLength(2);
  });

  test('a terminated holder is freed while the lock workflow is busy: its source permit comes back during a run, not after it', async () => {
    const stale = await startRun('wlj');
    await until(() => mocks.runningNow('wlj').includes('shop.j'), "wlj's sync of shop.j");
    await t.env.client.workflow.getHandle(node(await stale.query(statusQuery), 'shop.j').workflowId!).terminate('operator ended it');
    staleGate.resolve();
    // 30 short tables on the same source of concurrency 2: with one permit held by the
    // terminated sync they go one at a time, and the lock workflow is never idle for long.
    const busy: RunSummary = await (await startRun('wlk')).result();
    expect(busy.succeeded).toBe(30);
    expect(mocks.peak.get('wlk')!.perSource.shop).toBe(2);
    await stale.result().catch(() => undefined);
  });

  test('the lock workflow continues as new and carries its holders and queue', async () => {
    const executions = await t.env.client.workflow.count(`WorkflowId = '${writeLocksWorkflowId(t.taskQueue)}'`);
    expect(executions.count).toBeGreaterThan(1);
    const snapshot = await t.env.client.workflow.getHandle(writeLocksWorkflowId(t.taskQueue)).query('writeLocks');
    expect(snapshot).toEqual({ held: [], queued: [] });
  });
});
