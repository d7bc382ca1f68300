import type { BigQuery, JobMetadata, TableField } from '@google-cloud/bigquery';
import { once } from 'node:events';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { classifyBigQueryError } from './errors';
import { JobIdParts, parseJobId } from './job-ids';
import type { TableLayout } from './tables';

/** A job an earlier attempt of the sync submitted, as BigQuery reports it now. */
export interface PriorJob extends JobIdParts {
  id: string;
  state: string;
  /** BigQuery's reason code when the job failed. */
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
  /**
   * CREATE_NEVER for a table made beforehand with its expiry (the ranges' staging table): a
   * load that comes after the table was dropped fails, rather than bringing it back without one.
   */
  createDisposition?: 'CREATE_NEVER' | 'CREATE_IF_NEEDED';
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
    createDisposition: req.createDisposition ?? 'CREATE_IF_NEEDED',
    jobId: req.jobId,
    ...req.layout,
  });
  try {
    const created = once(upload, 'job');
    created.catch(() => undefined); // awaited below; an upload that failed first must not leave it unhandled
    await pipeline(fs.createReadStream(req.file), holdingLastChunk(hooks.beforeCommit), upload, { signal: hooks.signal });
    await created;
  } catch (err) {
    if (!isDuplicateJob(err)) throw asJobFailure(err, req.jobId);
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
    if (!isDuplicateJob(err)) throw asJobFailure(err, jobId);
  }
}

/**
 * Runs a query (a SQL step) once across the attempts of its activity. Its jobs are
 * `idFor(1)`, `idFor(2)`, ...: the first that BigQuery does not know is submitted; one an
 * earlier attempt submitted that is running or landed is the one to await, not run again;
 * one that failed for a passing reason (a backend error, a rate limit) is passed over, so
 * the next number runs the query afresh. Returns the job to await and whether this call
 * submitted it.
 */
/** Named query parameters: values bound by BigQuery, never spliced into the SQL. */
export interface QueryParams {
  values: Record<string, string | number>;
  types: Record<string, string>;
}

export async function submitQueryOnce(
  bq: BigQuery,
  sql: string,
  idFor: (n: number) => string,
  location: string,
  params?: QueryParams,
): Promise<{ id: string; submitted: boolean }> {
  for (let n = 1; ; n++) {
    const id = idFor(n);
    const meta = await jobMetadata(bq, id, location);
    if (!meta) {
      await submitStepQuery(bq, sql, id, location, params);
      return { id, submitted: true };
    }
    const failed = meta.status?.errorResult;
    const passing = failed && classifyBigQueryError({ reason: failed.reason, message: failed.message }) === 'transient';
    if (!passing) return { id, submitted: false };
  }
}

/** A job's metadata; undefined when BigQuery has no job of that ID. */
async function jobMetadata(bq: BigQuery, id: string, location: string): Promise<JobMetadata | undefined> {
  try {
    const [meta] = await bq.job(id, { location }).getMetadata();
    return meta;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/**
 * Submits a step's query. When BigQuery answers with a job that already failed (the
 * emulator runs queries inside the insert call), the client throws with that job's errors:
 * they are the job's failure. (The emulator's own record of such a job shows no error.)
 */
async function submitStepQuery(bq: BigQuery, sql: string, jobId: string, location: string, params?: QueryParams): Promise<void> {
  try {
    const bound = params && Object.keys(params.values).length > 0 ? { params: params.values, types: params.types } : {};
    await bq.createQueryJob({ query: sql, jobId, location, ...bound });
  } catch (err) {
    if (isDuplicateJob(err)) return;
    throw asJobFailure(err, jobId);
  }
}

/**
 * BigQuery's answer to submitting a job, when it says why the job failed (the emulator
 * loads and queries inside the insert call), as that job's failure; other errors (the
 * network) as they are.
 */
function asJobFailure(err: unknown, jobId: string): unknown {
  const errors = (err as { errors?: { reason?: string; message?: string }[] }).errors;
  if (!errors?.length || !errors[0].reason) return err;
  return new BigQueryJobFailed(jobId, errors[0].reason, errors.map((e) => String(e.message ?? '')));
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
    found.push({ id: job.id!, ...parsed, state: meta.status?.state ?? 'PENDING', error: failedReason(meta), ...(table && { table }) });
  }
  return found.sort((a, b) => a.n - b.n);
}

/** BigQuery's reason code of a failed job (never its message, which can quote values). */
const failedReason = (meta: JobMetadata): string | undefined =>
  meta.status?.errorResult ? String(meta.status.errorResult.reason ?? 'failed') : undefined;

/**
 * A job that ran and failed inside BigQuery (bad SQL, a rejected row), as opposed to a call
 * that could not reach BigQuery: `reason` is BigQuery's reason code (`invalidQuery`,
 * `backendError`, ...). BigQuery's own messages stay out of the message: they can quote row
 * values. They are kept, unlisted, for errors.ts to find the column and row in.
 */
export class BigQueryJobFailed extends Error {
  readonly #messages: string[];
  constructor(
    readonly jobId: string,
    readonly reason: string,
    messages: string[],
  ) {
    // The name stays "Error": it is the failure type Temporal records, as before this class.
    super(`BigQuery job ${jobId} failed (${reason})`);
    this.#messages = messages;
  }

  /** BigQuery's words, which may quote values: for classification, never for display. */
  bigQueryMessages(): string[] {
    return [...this.#messages];
  }
}

/**
 * Waits for a job to finish; throws BigQueryJobFailed with BigQuery's own reasons when it
 * failed. A cancelled activity (a worker shutting down) stops waiting; the job goes on in
 * BigQuery, and the retry finds it by its ID.
 */
export async function awaitJob(bq: BigQuery, id: string, onWait: () => void, signal?: AbortSignal, location?: string): Promise<JobMetadata> {
  const job = bq.job(id, location ? { location } : undefined);
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    signal?.throwIfAborted();
    const [meta] = await job.getMetadata();
    if (meta.status?.state === 'DONE') {
      const err = meta.status.errorResult;
      if (err) {
        const messages = [err.message, ...(meta.status.errors ?? []).slice(0, 5).map((e: { message?: string }) => e.message)];
        throw new BigQueryJobFailed(id, String(err.reason ?? 'unknown'), messages.map((m) => String(m ?? '')));
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
