import type { BigQuery, JobMetadata, TableField } from '@google-cloud/bigquery';
import { once } from 'node:events';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JobIdParts, parseJobId } from './job-ids';
import type { TableLayout } from './tables';

/** A job an earlier attempt of the sync submitted, as BigQuery reports it now. */
export interface PriorJob extends JobIdParts {
  id: string;
  state: string;
  error?: string;
  /** A load job's destination table. */
  table?: string;
}

export interface LoadRequest {
  dataset: string;
  table: string;
  file: string;
  schema: TableField[];
  /** Deterministic (job-ids.ts): re-submitting it after a crash cannot load twice. */
  jobId: string;
  /** WRITE_TRUNCATE replaces the table atomically: readers see the old rows or the new ones. */
  writeDisposition: 'WRITE_TRUNCATE' | 'WRITE_APPEND';
  layout?: TableLayout;
}

/** Hooks of a load job's upload, which may take long for a large file. */
export interface UploadHooks {
  /** Runs before the upload's last bytes leave: BigQuery creates the job only once they arrive; throw to abandon it. */
  beforeCommit?: () => Promise<void>;
  /** Aborts the upload; no job is created. */
  signal?: AbortSignal;
}

/**
 * Submits a load job under its deterministic ID, uploading the file with the job (one
 * multipart request). A job with that ID already existing means it was submitted before
 * (a retried request): that is not an error, the caller waits for it.
 */
export async function submitLoad(bq: BigQuery, req: LoadRequest, hooks: UploadHooks = {}): Promise<void> {
  const upload = bq.dataset(req.dataset).table(req.table).createWriteStream_({
    sourceFormat: 'NEWLINE_DELIMITED_JSON',
    schema: { fields: req.schema },
    writeDisposition: req.writeDisposition,
    createDisposition: 'CREATE_IF_NEEDED',
    jobId: req.jobId,
    ...req.layout,
  });
  try {
    const created = once(upload, 'job');
    created.catch(() => undefined); // awaited below; an upload that failed first must not leave it unhandled
    await pipeline(fs.createReadStream(req.file), holdingLastChunk(hooks.beforeCommit), upload, { signal: hooks.signal });
    await created;
  } catch (err) {
    if (!isDuplicateJob(err)) throw err;
  }
}

/** Passes the file on, but its last chunk only once `beforeCommit` allows it. */
function holdingLastChunk(beforeCommit?: () => Promise<void>): Transform {
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done) {
      (beforeCommit ?? (async () => undefined))().then(
        () => done(null, held),
        (err: unknown) => done(err as Error),
      );
    },
  });
}

/** Submits a query (DML or DDL) under its deterministic ID; see submitLoad. */
export async function submitQuery(bq: BigQuery, sql: string, jobId: string): Promise<void> {
  try {
    await bq.createQueryJob({ query: sql, jobId });
  } catch (err) {
    if (!isDuplicateJob(err)) throw err;
  }
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
    const table: string | undefined = meta.configuration?.load?.destinationTable?.tableId ?? undefined;
    found.push({ id: job.id!, ...parsed, state: meta.status?.state ?? 'PENDING', error: meta.status?.errorResult?.message, ...(table && { table }) });
  }
  return found.sort((a, b) => a.n - b.n);
}

/**
 * A job that ran and failed inside BigQuery (bad SQL, a rejected row), as opposed to a call
 * that could not reach BigQuery: `reason` is BigQuery's own first error.
 */
export class BigQueryJobFailed extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
    details: string,
  ) {
    // The name stays "Error": it is the failure type Temporal records, as before this class.
    super(`BigQuery job ${jobId} failed: ${reason}${details ? ` (${details})` : ''}`);
  }
}

/**
 * Waits for a job to finish; throws BigQueryJobFailed with BigQuery's own reasons when it
 * failed. A cancelled activity (a worker shutting down) stops waiting; the job goes on in
 * BigQuery, and the retry finds it by its ID.
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
        throw new BigQueryJobFailed(id, String(err.message), details);
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
