import os from 'node:os';
import type { TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import { StagingBudgetWait } from './staging-budget';

/** The staging directory: each sync makes its own directory in it (sync-context.ts). */
export const stagingDirectory = () => os.tmpdir();

/**
 * A full staging disk or an exhausted staging budget, worded for the operator: the table,
 * the directory and what to do. Undefined for any other error. Only this table fails; the
 * worker and the other tables go on.
 */
export function stagingSpaceFault(err: unknown, task: TableTask, attempt: number): Error | undefined {
  if (err instanceof StagingBudgetWait) {
    return err.alone
      ? failure('StagingBudgetTooSmall', `${task.key}: the table's staged file needs more than the worker's staging budget of ${err.limit} bytes ` +
          `(BQSYNC_STAGING_BUDGET_BYTES), so it can never be staged whole. Raise the budget (and the worker's disk) above the file's size, ` +
          'or let the table load in key ranges (a single integer primary key and chunkRows below its row count)')
      : failure('StagingBudgetWait', `${task.key}: the worker's staging budget of ${err.limit} bytes is taken by tables that started earlier; ` +
          `this one gave up its share in attempt ${attempt} so that they can finish, and is retried`);
  }
  if ((err as NodeJS.ErrnoException | undefined)?.code !== 'ENOSPC') return undefined;
  return failure('StagingDiskFull', `${task.key}: the staging directory ${stagingDirectory()} ran out of space (ENOSPC) in attempt ${attempt}; ` +
      "the table's staged files were removed and it is retried. If it repeats: free space there, give the worker more disk " +
      '(ephemeralStorageGiB on Fargate), or set BQSYNC_STAGING_BUDGET_BYTES below the free space so that fewer tables stage at once');
}
