import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';

const ROOT = path.join(__dirname, '..', '..');

// A failed run recorded (temporal workflow show --output json) with the workflow code of
// commit dda6264, from before run-dated child IDs and the failure notification: workers
// upgraded during a nightly run must replay such runs (and queries on old runs replay too).
test('a run begun by the previous workflow code replays with this code', async () => {
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/nightly-sync-failed-run-before-dated-ids.json'), 'utf8'));
  const history = historyFromJSON(json);
  const childIds = history.events!.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId).filter(Boolean);
  expect(childIds).toEqual([expect.stringMatching(/^bqsync-itreplay\.\d{8}T\d{6}Z\.shop\.customers$/), expect.stringMatching(/\.shop\.x_replay_missing$/)]);
  await Worker.runReplayHistory({ workflowBundle: { codePath: path.join(ROOT, 'dist/worker/workflow-bundle.js') } }, history, 'bqsync-itreplay');
});

// A run under a schedule's kind of ID (it ends in the run time) recorded with the workflow
// code of commit e8074f9, which named table syncs by pipeline and run time; this code builds
// them on the run's ID. A run going on while workers are upgraded must keep its IDs.
test("a run begun before table sync IDs were built on the run's ID replays with this code", async () => {
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/nightly-sync-run-dated-ids.json'), 'utf8'));
  const history = historyFromJSON(json);
  const childIds = history.events!.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId).filter(Boolean);
  expect(childIds).toEqual(['bqsync-wlb.2026-12-01T02:00:00Z.shop.orders']);
  await Worker.runReplayHistory({ workflowBundle: { codePath: path.join(ROOT, 'dist/worker/workflow-bundle.js') } }, history, 'bqsync-wlb-2026-12-01T02:00:00Z');
});

// A table sync recorded (temporal workflow show --output json) with the workflow code of
// commit eeda334, which asked for its write lock through an activity task; this code asks
// through a local activity. A table sync running while workers are upgraded must replay.
test('a table sync that asked for its write lock through an activity task replays with this code', async () => {
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/table-sync-lock-by-activity.json'), 'utf8'));
  const history = historyFromJSON(json);
  const scheduled = history.events!.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
  expect(scheduled).toEqual(['requestWriteLock', 'syncTable']);
  await Worker.runReplayHistory({ workflowBundle: { codePath: path.join(ROOT, 'dist/worker/workflow-bundle.js') } }, history, 'bqsync-bench.2026-12-05T04:36:32Z.postgres.many_0246');
});

// A table sync recorded (temporal workflow show --output json) with the workflow code of
// commit 51c0e1b, which gave its write lock back by a signal from workflow code; this code
// gives it back through a local activity. A table sync running while workers are upgraded must replay.
test('a table sync that released its write lock by a signal replays with this code', async () => {
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/table-sync-lock-released-by-signal.json'), 'utf8'));
  const history = historyFromJSON(json);
  const types = history.events!.map((e) => e.eventType);
  expect(types).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
  await Worker.runReplayHistory({ workflowBundle: { codePath: path.join(ROOT, 'dist/worker/workflow-bundle.js') } }, history, 'bqsync-itsync.2026-12-05T07:56:36Z.shop.orders');
});

/** The activities a history scheduled, in order, and the signals it received. */
const steps = (history: ReturnType<typeof historyFromJSON>) =>
  history.events!.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? (e.workflowExecutionSignaledEventAttributes?.signalName && `signal:${e.workflowExecutionSignaledEventAttributes.signalName}`)).filter(Boolean);
const replay = (history: ReturnType<typeof historyFromJSON>, workflowId: string) =>
  Worker.runReplayHistory({ workflowBundle: { codePath: path.join(ROOT, 'dist/worker/workflow-bundle.js') } }, history, workflowId);
const fixture = (name: string) => historyFromJSON(JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures', name), 'utf8')));

// Table syncs recorded with the workflow code of commit 51c0e1b, from before block ranges: a
// PostgreSQL table in key ranges, and one with a text key read in one piece although its
// parallelRanges is 3. Running while workers are upgraded, they must replay as they ran
// (patched('snapshot-ranges') is false for them).
test('table syncs begun before block ranges (key ranges, one piece) replay with this code', async () => {
  const keyRanges = fixture('table-sync-key-ranges-before-block-ranges.json');
  expect(steps(keyRanges)).toEqual(['signal:writeLockGranted', 'syncTable', 'syncRange', 'syncRange', 'syncRange', 'finishRanges']);
  await replay(keyRanges, 'bqsync-itrecord.2026-12-05T08:16:40Z.billing.x_rec_int');
  const onePiece = fixture('table-sync-one-piece-before-block-ranges.json');
  expect(steps(onePiece)).toEqual(['signal:writeLockWaiting', 'signal:writeLockGranted', 'syncTable']);
  await replay(onePiece, 'bqsync-itrecord.2026-12-05T08:16:40Z.billing.x_rec_text');
});

// A table sync in block ranges of one snapshot, recorded with this code: the snapshot's holder,
// its signal, three ranges and the swap. Later changes to the workflow must keep it replaying.
test('a table sync read in block ranges of one shared snapshot replays', async () => {
  const blocks = fixture('table-sync-block-ranges.json');
  expect(steps(blocks)).toEqual(['signal:writeLockGranted', 'syncTable', 'holdSnapshot', 'signal:rangesSnapshot', 'syncRange', 'syncRange', 'syncRange', 'finishRanges']);
  await replay(blocks, 'bqsync-itrecord.2026-12-05T08:16:52Z.billing.x_rec_text');
});
