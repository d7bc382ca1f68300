import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { writeLocksWorkflowId } from '../common/write-locks';
import type { TableSyncInput } from '../common/payloads';
import { releaseWriteLockSignal, writeLockGrantedSignal, writeLockWaitingSignal } from './write-locks';
import { tableWaitingSignal } from './table-waiting';

const requestOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '30s' },
  summary: 'ask for the write lock of the destination table and a permit of the source',
} as const;
const { requestWriteLock } = proxyActivities<Activities>(requestOptions);
// The same request as a local activity: it runs inside the table sync's first workflow task,
// which saves an activity task and a workflow task per table (the request is one update, or
// one signal-with-start when the lock workflow is not running).
const { requestWriteLock: requestWriteLockLocally } = proxyLocalActivities<Activities>(requestOptions);
// The release as a local activity: the table sync then ends in the workflow task that gives
// the lock back, where a signal to another workflow must be acknowledged in one more task.
const { releaseWriteLock } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5 },
  summary: 'give the write lock and the source permits back',
});

/**
 * Runs `write` holding the destination table's lock and `permits` of the source (absent: 1,
 * and then not sent, as older versions asked), and
 * releases them however it ends (failed, cancelled). While it waits, the table sync's
 * current details in the Web UI and its run's `status` say what it waits for.
 */
export async function withWriteLock<T>(input: TableSyncInput, write: () => Promise<T>, permits = 1): Promise<T> {
  const info = workflowInfo();
  const requestId = info.runId;
  let granted = false;
  let waiting: string | undefined;
  setHandler(writeLockGrantedSignal, (id) => void (id === requestId && (granted = true)));
  setHandler(writeLockWaitingSignal, (w) => void (w.requestId === requestId && (waiting = w.message)));
  const { task } = input;
  try {
    // (Table syncs that asked through an activity task replay so.) The answer is `granted`
    // when the lock is held at once; else (and in histories of older versions, where the
    // request answered nothing) the grant arrives as a signal.
    const answer = await (patched('write-lock-local-request') ? requestWriteLockLocally : requestWriteLock)({
      requestId,
      holder: info.workflowId,
      key: task.key,
      label: `${task.dataset}.${task.destination}`,
      table: `${task.dataset}.${task.destination}`,
      source: task.source,
      sourceCapacity: input.sourceConcurrency ?? 1,
      ...(permits > 1 && { permits }),
    });
    if (answer === 'granted') granted = true;
    let shown: string | undefined;
    while (!granted) {
      await condition(() => granted || waiting !== shown);
      if (granted) break;
      shown = waiting;
      setCurrentDetails(`**${shown}**`);
      tellRun(input, shown);
    }
    if (shown !== undefined) {
      setCurrentDetails('');
      tellRun(input, undefined);
    }
    return await write();
  } finally {
    // Also when cancelled: a lock left behind would hold the table until the holder check frees it.
    // (Table syncs that released by a signal from workflow code replay so.)
    const release = patched('write-lock-local-release')
      ? () => releaseWriteLock(requestId)
      : () => getExternalWorkflowHandle(writeLocksWorkflowId(info.taskQueue)).signal(releaseWriteLockSignal, requestId);
    await CancellationScope.nonCancellable(() => release().catch(() => undefined));
  }
}

/** Tells the run (by workflow ID, so a continued run hears it too) what the table waits for. */
function tellRun(input: TableSyncInput, message: string | undefined): void {
  const parent = workflowInfo().parent;
  if (!parent) return;
  void getExternalWorkflowHandle(parent.workflowId)
    .signal(tableWaitingSignal, { key: input.task.key, workflowId: workflowInfo().workflowId, message })
    .catch(() => undefined);
}
