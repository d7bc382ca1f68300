import type { BigQuery, JobMetadata } from '@google-cloud/bigquery';
import { createHash } from 'node:crypto';

/**
 * Deterministic BigQuery job IDs, so that a retried activity finds the jobs an earlier
 * attempt submitted instead of loading the same rows again.
 *
 * One table sync (a child workflow run) owns the prefix `bqsync_<workflow>_<hash>`. Each
 * job is `<prefix>_<kind><n>_<rows>r`: its kind (load, stage, merge), its sequence number
 * within the sync, and the number of rows it carries, so the retry knows what to verify.
 */
export type JobKind = 'load' | 'stage' | 'merge' | 'chunk' | 'swap';

export interface PriorJob {
  id: string;
  kind: JobKind;
  n: number;
  rows: number;
  /** chunk: the end of its key range (exclusive), or 'end' for the last. */
  to?: string;
  state: string;
  error?: string;
}

export function jobPrefix(workflowId: string, runId: string): string {
  const slug = workflowId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
  const hash = createHash('sha256').update(`${workflowId}/${runId}`).digest('hex').slice(0, 16);
  return `bqsync_${slug}_${hash}`;
}

export function jobId(prefix: string, kind: JobKind, n: number, rows: number, to?: string): string {
  return `${prefix}_${kind}${n}_${rows}r${to === undefined ? '' : `_to${to}`}`;
}

function parseJobId(prefix: string, id: string): { kind: JobKind; n: number; rows: number; to?: string } | undefined {
  if (!id.startsWith(`${prefix}_`)) return undefined;
  const m = /^(load|stage|merge|chunk|swap)(\d+)_(\d+)r(?:_to(-?\d+|end))?$/.exec(id.slice(prefix.length + 1));
  return m ? { kind: m[1] as JobKind, n: Number(m[2]), rows: Number(m[3]), to: m[4] } : undefined;
}

/**
 * The jobs earlier attempts of this sync submitted, oldest first, found by listing the
 * project's jobs created since the sync was first scheduled.
 */
export async function priorJobs(bq: BigQuery, prefix: string, since: Date): Promise<PriorJob[]> {
  const [jobs] = await bq.getJobs({ minCreationTime: String(since.getTime() - 60_000), autoPaginate: true });
  const found: PriorJob[] = [];
  for (const job of jobs) {
    const parsed = job.id ? parseJobId(prefix, job.id) : undefined;
    if (!parsed) continue;
    const [meta] = await job.getMetadata();
    found.push({ id: job.id!, ...parsed, state: meta.status?.state ?? 'PENDING', error: meta.status?.errorResult?.message });
  }
  return found.sort((a, b) => a.n - b.n);
}

/**
 * Waits for a job to finish; throws with BigQuery's own reasons when it failed. A cancelled
 * activity (a worker shutting down) stops waiting; the job goes on in BigQuery, and the
 * retry finds it by its ID.
 */
export async function awaitJob(bq: BigQuery, id: string, onWait: () => void, signal?: AbortSignal): Promise<JobMetadata> {
  const job = bq.job(id);
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    signal?.throwIfAborted();
    const [meta] = await job.getMetadata();
    if (meta.status?.state === 'DONE') {
      const err = meta.status.errorResult;
      if (err) {
        const details = (meta.status.errors ?? []).slice(0, 5).map((e: { message?: string }) => e.message).join('; ');
        throw new Error(`BigQuery job ${id} failed: ${err.message}${details ? ` (${details})` : ''}`);
      }
      return meta;
    }
    onWait();
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** True when BigQuery refused a job because one with its ID exists (409; the emulator says 500). */
export function isDuplicateJob(err: unknown): boolean {
  const e = err as { code?: number; message?: string };
  return e.code === 409 || /already (exists|created)/i.test(e.message ?? '');
}
