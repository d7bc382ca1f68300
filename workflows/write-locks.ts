import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration, SignalDefinition } from '@temporalio/common';
import type { Activities } from '../activities';
import {
  ACQUIRE_SIGNAL,
  ACQUIRE_UPDATE,
  GRANTED_SIGNAL,
  RELEASE_SIGNAL,
  WAITING_SIGNAL,
  WriteLockAnswer,
  WriteLockRequest,
  WriteLocksInput,
  WriteLocksSnapshot,
  WriteLockWaiting,
} from '../common/write-locks';
import { WriteLockState } from './write-lock-state';

export const acquireWriteLockSignal = defineSignal<[WriteLockRequest]>(ACQUIRE_SIGNAL);
export const acquireWriteLockUpdate = defineUpdate<WriteLockAnswer, [WriteLockRequest]>(ACQUIRE_UPDATE);
export const releaseWriteLockSignal = defineSignal<[string]>(RELEASE_SIGNAL);
export const writeLockGrantedSignal = defineSignal<[string]>(GRANTED_SIGNAL);
export const writeLockWaitingSignal = defineSignal<[WriteLockWaiting]>(WAITING_SIGNAL);
/** Who holds and who waits, for operators (`temporal workflow query`). */
export const writeLocksQuery = defineQuery<WriteLocksSnapshot>('writeLocks');

const { closedWorkflows } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumInterval: '1 minute' },
  summary: 'find lock holders that closed without releasing',
});

/** Far below the 51,200-event limit: a handover carries only the holders and the queue. */
const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

/**
 * The write locks of every table sync (common/write-locks.ts): requests arrive as updates
 * answered at once with `granted` or `queued` (or as signals: the first one starts this
 * workflow by signal-with-start, and older workers ask so); grants that come later, and
 * waiting notices, go back to the requesting workflow by ID as signals; a release is a
 * signal from the holder. Holders that closed without releasing (terminated) are found by a
 * periodic check and freed.
 */
export async function writeLocks(input: WriteLocksInput = {}): Promise<void> {
  const state = new WriteLockState(input.carried);
  /** The last waiting message each request was told, so that it is told only changes. */
  const told = new Map<string, string>(input.carried?.told ?? []);
  let changed = true;
  let inFlight = 0;
  setHandler(acquireWriteLockSignal, (r) => {
    // A repeated request that already holds is told again: its first grant may have been missed.
    if (state.request(r) === 'known' && state.isHeld(r.requestId)) tell(r.holder, writeLockGrantedSignal, r.requestId);
    changed = true;
  });
  // Settled within the update, so that a request granted now is told so in the reply only.
  setHandler(acquireWriteLockUpdate, (r): WriteLockAnswer => {
    if (state.request(r) === 'queued') settle(r.requestId);
    return state.isHeld(r.requestId) ? 'granted' : 'queued';
  });
  setHandler(releaseWriteLockSignal, (requestId) => {
    state.release(requestId);
    told.delete(requestId);
    changed = true;
  });
  setHandler(writeLocksQuery, () => state.snapshot());

  /** Signals a holder; one that is gone has its locks freed. */
  function tell<T extends unknown[]>(holder: string, signal: SignalDefinition<T>, ...args: T): void {
    inFlight++;
    getExternalWorkflowHandle(holder)
      .signal(signal, ...args)
      .catch(() => {
        state.releaseHolders(new Set([holder]));
        changed = true;
      })
      .finally(() => inFlight--);
  }

  /**
   * Grants what can go now and tells the waiting what they wait for (what changed since the
   * last time); `answering` is a request whose grant goes in an update's reply, not a signal.
   */
  function settle(answering?: string): void {
    changed = false;
    for (const r of state.grant()) {
      told.delete(r.requestId);
      if (r.requestId !== answering) tell(r.holder, writeLockGrantedSignal, r.requestId);
    }
    for (const { request, message } of state.waiting()) {
      if (told.get(request.requestId) === message) continue;
      told.set(request.requestId, message);
      tell(request.holder, writeLockWaitingSignal, { requestId: request.requestId, message });
    }
  }

  const sweepEvery = (input.sweepEvery ?? '1 minute') as Duration;
  const sweepMs = msToNumber(sweepEvery);
  let nextCheck = Date.now() + sweepMs;
  const limit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  for (;;) {
    if (changed) settle();
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > limit) {
      await condition(() => inFlight === 0 && allHandlersFinished());
      if (!changed) await continueAsNew<typeof writeLocks>({ ...input, carried: { ...state.snapshot(), told: [...told] } });
      continue;
    }
    // The holder check comes every sweepEvery, busy or not: a terminated holder's table and
    // permits must come back while other syncs keep the lock workflow busy, not when it
    // quiets down. (Lock workflows of older versions replay checking only when idle.)
    let due: boolean;
    if (patched('holder-check-on-time')) {
      await condition(() => changed, Math.max(1, nextCheck - Date.now()));
      due = Date.now() >= nextCheck;
      if (due) nextCheck = Date.now() + sweepMs;
    } else {
      due = !(await condition(() => changed, sweepEvery));
    }
    if (due && state.holders().length > 0) {
      // Checked by run: a closed holder's workflow ID may be running again, as a new sync
      // of the same table and run time, which would otherwise wait behind its own ID for good.
      // (Lock workflows of older versions replay checking by workflow ID.)
      const byRun = patched('holder-check-by-run');
      const closed = await closedWorkflows(byRun ? state.holderRuns() : state.holders());
      if (closed.length > 0) {
        if (byRun) state.releaseRequests(new Set(closed));
        else state.releaseHolders(new Set(closed));
        changed = true;
      }
    }
  }
}
