import { defineSignal } from '@temporalio/workflow';

/** What a table sync tells its run while it waits for a write lock (message absent: no longer waits). */
export interface TableWaiting {
  key: string;
  workflowId: string;
  message?: string;
}

/** Table sync -> its run, so that `status` shows why a running table does not move. */
export const tableWaitingSignal = defineSignal<[TableWaiting]>('tableWaiting');
