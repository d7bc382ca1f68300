import { BigQuery } from '@google-cloud/bigquery';
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
