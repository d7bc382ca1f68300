import { BigQuery, Job, TableField } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import type { Config } from '../config/schema';

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
  /** Re-submitting the same ID after a crash finds the job instead of loading twice. */
  jobId?: string;
}

/**
 * One load job replaces the table atomically (WRITE_TRUNCATE): readers see the old rows
 * or the new ones, never an empty table, and the table keeps its grants.
 */
export async function loadReplacing(bq: BigQuery, req: LoadRequest, onWait: () => void): Promise<Job> {
  const [job] = await bq
    .dataset(req.dataset)
    .table(req.table)
    .createLoadJob(req.file, {
      sourceFormat: 'NEWLINE_DELIMITED_JSON',
      schema: { fields: req.schema },
      writeDisposition: 'WRITE_TRUNCATE',
      createDisposition: 'CREATE_IF_NEEDED',
      jobId: req.jobId,
    });
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    const [meta] = await job.getMetadata();
    if (meta.status?.state === 'DONE') {
      const err = meta.status.errorResult;
      if (err) {
        const details = (meta.status.errors ?? []).slice(0, 5).map((e: { message?: string }) => e.message).join('; ');
        throw new Error(`BigQuery load job ${job.id} failed: ${err.message}${details ? ` (${details})` : ''}`);
      }
      return job;
    }
    onWait();
    await new Promise((r) => setTimeout(r, wait));
  }
}

export async function countRows(bq: BigQuery, project: string, dataset: string, table: string): Promise<number> {
  const [rows] = await bq.query({ query: `SELECT COUNT(*) AS n FROM \`${project}.${dataset}.${table}\`` });
  return Number(rows[0].n);
}
