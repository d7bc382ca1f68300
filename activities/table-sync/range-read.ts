import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { LoadedConfig } from '../../config/load';
import type { RangeResult, RangeTask } from '../../common/payloads';
import { awaitJob, PriorJob, priorJobs } from '../../bigquery/jobs';
import { jobId } from '../../bigquery/job-ids';
import { crashPoint } from './crash-point';
import { pausePoint } from './pause-point';
import type { RowFilter, SourceConnection } from '../../sources/driver';
import { SourceSnapshotGone } from '../../sources/snapshot-gone';
import { readableFault } from './faults';
import { planSync, SyncPlan } from './plan';
import { checkSameSchema } from './range-plan';
import { readRowsToFile } from './read-rows';
import { rangeKeyset } from './key-bounds';
import { withSource } from './source-connection';
import type { StagingBudget } from './staging-budget';
import { endSync, startSync, TableSync } from './sync-context';
import { loadJob } from './writes';

/**
 * One key range of a full load, as an activity any worker takes: its own source connection
 * and snapshot, its own file on this worker's disk, appended to the sync's staging table by
 * a load job whose ID names the range (its sequence number is index + 1). A retry first looks
 * for that range's earlier jobs: one that landed is reused (its row count is in its ID), one
 * still running is awaited, one that failed is loaded again; so a range lands once.
 */
export function makeSyncRange(loaded: LoadedConfig, budget: StagingBudget) {
  return async function syncRange(input: RangeTask): Promise<RangeResult> {
    const sync = await startSync(loaded, input.task, budget);
    sync.staging = { dataset: input.task.dataset, table: input.plan.staging };
    let planned: SyncPlan | undefined;
    try {
      const earlier = await landedEarlier(sync, input.index + 1);
      if (earlier) return { rows: earlier.rows, bytes: 0, nulledValues: {}, resumed: true, worker: workerIdentity() };
      return await readAndLoad(loaded, sync, input, (p) => (planned = p));
    } catch (err) {
      throw readableFault(err, input.task, loaded, planned?.schema.fields);
    } finally {
      // The staging table is the sync's, not this attempt's: the finish drops it.
      await endSync(sync);
    }
  };
}

async function readAndLoad(loaded: LoadedConfig, sync: TableSync, input: RangeTask, onPlan: (p: SyncPlan) => void): Promise<RangeResult> {
  const { index, range } = input;
  const n = index + 1;
  const file = path.join(sync.workDir, `range-${n}.json${sync.gzip ? '.gz' : ''}`);
  const { plan, staged } = await withSource(loaded, input.task.source, async (reader) => {
    const plan = await planSync(sync, reader);
    onPlan(plan);
    checkSameSchema(sync, plan, input.plan.schema);
    const filter =
      input.plan.by === 'blocks'
        ? await inSharedSnapshot(reader, input, n, sync.signal)
        : input.plan.bounds
          ? { keyset: await rangeKeyset(sync, input, plan.shape) }
          : { column: input.plan.column, from: range.from, below: range.below };
    const staged = await readRowsToFile(sync, reader, plan.shape, filter, file, (p) => {
      sync.heartbeat({ phase: 'extract', rows: p.rows, bytes: p.bytes, range: n });
      crashPoint('range-read');
    });
    return { plan, staged };
  });
  const id = jobId(sync.jobPrefix, sync.attempt, 'chunk', n, staged.rows, range.below ?? 'end');
  const { dataset, table } = sync.staging;
  await loadJob(sync, { dataset, table, file, schema: plan.schema.fields, jobId: id, writeDisposition: 'WRITE_APPEND', createDisposition: 'CREATE_NEVER' });
  crashPoint('chunk-submitted');
  await awaitJob(sync.bq, id, () => sync.heartbeat({ phase: 'load', rows: staged.rows, bytes: staged.bytes, range: n }), sync.signal);
  await fs.rm(file, { force: true });
  return { ...staged, resumed: false, worker: workerIdentity() };
}

/**
 * A block range reads the snapshot the holding session exported (snapshot-holder.ts), never
 * one of its own: a row an UPDATE moved to another block meanwhile would be read twice or
 * not at all. If that snapshot is gone the read fails (SnapshotLost) before any row.
 */
async function inSharedSnapshot(reader: SourceConnection, input: RangeTask, n: number, signal: AbortSignal): Promise<RowFilter> {
  const shared = reader.sharedSnapshots;
  if (!shared || !input.snapshot) throw new SourceSnapshotGone(input.task.table, 'the range was planned in blocks but has no shared snapshot to read');
  await pausePoint(n, signal);
  shared.readNextIn(input.snapshot);
  return { blocks: { from: input.range.from, below: input.range.below } };
}

/**
 * The load job of this range that an earlier attempt submitted and that landed; one still
 * running is awaited first. Attempts that were superseded submit nothing (attempt.ts), so
 * once this attempt runs no other job of the range can start.
 */
async function landedEarlier(sync: TableSync, n: number): Promise<PriorJob | undefined> {
  if (sync.attempt === 1) return undefined;
  const prior = await priorJobs(sync.bq, sync.jobPrefix, sync.scheduledAt);
  for (const job of prior.filter((j) => j.kind === 'chunk' && j.n === n && !j.error).reverse()) {
    try {
      await awaitJob(sync.bq, job.id, () => sync.heartbeat({ phase: 'resume', rows: 0, bytes: 0, range: n }), sync.signal);
      return job;
    } catch {
      sync.signal.throwIfAborted(); // that job failed after all: try the one before, or read again
    }
  }
  return undefined;
}

/** The worker's identity as Temporal records it by default (process ID at host name). */
export function workerIdentity(): string {
  return `${process.pid}@${os.hostname()}`;
}
