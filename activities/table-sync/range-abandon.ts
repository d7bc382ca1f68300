import { log } from '@temporalio/activity';
import type { LoadedConfig } from '../../config/load';
import type { RangePlan, TableTask } from '../../common/payloads';
import { awaitJob, priorJobs } from '../../bigquery/jobs';
import { dropTable } from '../../bigquery/tables';
import { dropBoundsTable } from './key-bounds';
import type { StagingBudget } from './staging-budget';
import { endSync, startSync } from './sync-context';

export interface AbandonRangesInput {
  task: TableTask;
  plan: Pick<RangePlan, 'staging' | 'bounds'>;
  /** When the table sync started: its jobs are younger. */
  since: string;
}

/**
 * A table sync read in ranges that failed or was cancelled: its staging table and key
 * boundaries go now instead of at their expiry a day later. A load that a lost worker
 * submitted may still be running into the staging table, so the sync's unfinished jobs are
 * awaited first (their own outcome does not matter any more). Failing here changes nothing
 * for the table sync: the tables still expire.
 */
export function makeAbandonRanges(loaded: LoadedConfig, budget: StagingBudget) {
  return async function abandonRanges(input: AbandonRangesInput): Promise<void> {
    const sync = await startSync(loaded, input.task, budget);
    const staging = `${input.task.dataset}.${input.plan.staging}`;
    try {
      const unfinished = (await priorJobs(sync.bq, sync.jobPrefix, new Date(input.since))).filter((job) => job.state !== 'DONE');
      for (const job of unfinished) {
        await awaitJob(sync.bq, job.id, () => sync.heartbeat({ phase: 'resume', rows: 0, bytes: 0 }), sync.signal).catch(() => undefined);
      }
      await dropTable(sync.bq, input.task.dataset, input.plan.staging);
      await dropBoundsTable(sync, input.plan.bounds);
      log.info('dropped the staging table of a ranged sync that did not finish', { table: staging });
    } finally {
      await endSync(sync);
    }
  };
}
