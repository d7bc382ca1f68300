import { BigQuery, TableField } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import type { Config } from '../config/schema';
import { isDuplicateJob } from './jobs';
import { quoteBigQuery } from './merge-sql';
import type { DestinationField } from './schema-drift';

export type BigQueryConfig = Config['bigquery'];

/**
 * A BigQuery client for the configured project. With an `endpoint` (the emulator) it sends
 * a fixed fake token: the emulator checks none, and the client's upload code needs one.
 * Without it, Application Default Credentials apply (GOOGLE_APPLICATION_CREDENTIALS).
 */
export function createBigQuery(cfg: BigQueryConfig): BigQuery {
  if (!cfg.endpoint) return new BigQuery({ projectId: cfg.project, location: cfg.location });
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'emulator', expiry_date: Date.now() + 365 * 24 * 3600 * 1000 });
  return new BigQuery({ projectId: cfg.project, location: cfg.location, apiEndpoint: cfg.endpoint, authClient });
}

// Datasets this process has seen; a dataset is checked once, not once per table.
const knownDatasets = new Set<string>();

export async function ensureDataset(bq: BigQuery, dataset: string, location: string): Promise<void> {
  const cacheKey = `${bq.projectId}.${dataset}`;
  if (knownDatasets.has(cacheKey)) return;
  await createDatasetIfMissing(bq, dataset, location);
  knownDatasets.add(cacheKey);
}

async function createDatasetIfMissing(bq: BigQuery, dataset: string, location: string): Promise<void> {
  const ds = bq.dataset(dataset, { location });
  const [exists] = await ds.exists();
  if (exists) return;
  try {
    await ds.create({ location });
  } catch (err) {
    // Another table sync created it first.
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

export interface LoadRequest {
  dataset: string;
  table: string;
  file: string;
  schema: TableField[];
  /** Deterministic (see load-jobs.ts): re-submitting it after a crash cannot load twice. */
  jobId: string;
  /** WRITE_TRUNCATE replaces the table atomically: readers see the old rows or the new ones. */
  writeDisposition: 'WRITE_TRUNCATE' | 'WRITE_APPEND';
  layout?: TableLayout;
}

/** Partitioning and clustering, as the BigQuery API spells them. */
export interface TableLayout {
  timePartitioning?: { type: string; field: string };
  rangePartitioning?: { field: string; range: { start: string; end: string; interval: string } };
  clustering?: { fields: string[] };
}

/**
 * Submits a load job under its deterministic ID. A job with that ID already existing means
 * an earlier attempt submitted it: that is not an error, the caller waits for it.
 */
export async function submitLoad(bq: BigQuery, req: LoadRequest): Promise<void> {
  try {
    await bq
      .dataset(req.dataset)
      .table(req.table)
      .createLoadJob(req.file, {
        sourceFormat: 'NEWLINE_DELIMITED_JSON',
        schema: { fields: req.schema },
        writeDisposition: req.writeDisposition,
        createDisposition: 'CREATE_IF_NEEDED',
        jobId: req.jobId,
        ...req.layout,
      });
  } catch (err) {
    if (!isDuplicateJob(err)) throw err;
  }
}

/** Submits a query (DML or DDL) under its deterministic ID; see submitLoad. */
export async function submitQuery(bq: BigQuery, sql: string, jobId: string): Promise<void> {
  try {
    await bq.createQueryJob({ query: sql, jobId });
  } catch (err) {
    if (!isDuplicateJob(err)) throw err;
  }
}

export interface DestinationTable {
  fields: DestinationField[];
  description?: string;
}

/** The destination table's schema and description, or undefined when it does not exist yet. */
export async function destinationTable(bq: BigQuery, dataset: string, table: string): Promise<DestinationTable | undefined> {
  try {
    // One call, not exists() and then getMetadata(): this runs for every table of every run.
    const [meta] = await bq.dataset(dataset).table(table).getMetadata();
    return { fields: (meta.schema?.fields ?? []) as DestinationField[], description: meta.description ?? undefined };
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Sets the table's description (from the source table's comment) when it differs. */
export async function describeTable(bq: BigQuery, dataset: string, table: string, description: string, current?: string): Promise<void> {
  if (description !== current) await bq.dataset(dataset).table(table).setMetadata({ description });
}

/** The highest cursor value already loaded, as text, or undefined for an empty table. */
export async function maxCursor(bq: BigQuery, table: string, column: string): Promise<string | undefined> {
  const [rows] = await bq.query({ query: `SELECT MAX(${quoteBigQuery(column)}) AS m FROM ${quoteBigQuery(table)}`, wrapIntegers: true });
  const m = rows[0]?.m as { value?: unknown } | string | number | null | undefined;
  if (m === null || m === undefined) return undefined;
  return typeof m === 'object' && 'value' in m ? String(m.value) : String(m);
}

export async function dropTable(bq: BigQuery, dataset: string, table: string): Promise<void> {
  await bq.dataset(dataset).table(table).delete({ ignoreNotFound: true });
}

export async function countRows(bq: BigQuery, project: string, dataset: string, table: string): Promise<number> {
  const [rows] = await bq.query({ query: `SELECT COUNT(*) AS n FROM ${quoteBigQuery(`${project}.${dataset}.${table}`)}` });
  return Number(rows[0].n);
}
