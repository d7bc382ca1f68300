/**
 * True when a BigQuery call failed because the endpoint could not be reached (refused,
 * reset, timed out, name not found), as opposed to BigQuery answering with an error. The
 * client reports these as node-fetch's FetchError of type "system" (gaxios for uploads).
 */
export function isBigQueryUnreachable(err: unknown): boolean {
  const e = err as { name?: string; type?: string; code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'FetchError' && e.type === 'system') return true;
  return e.name === 'GaxiosError' && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code);
}

/** Google's API, when the config names no endpoint. */
export const GOOGLE_BIGQUERY_ENDPOINT = 'https://bigquery.googleapis.com';
