import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * On Fargate the GCP service-account key arrives from Secrets Manager as the environment
 * variable GOOGLE_APPLICATION_CREDENTIALS_JSON; Google's client libraries read a key only
 * from the file GOOGLE_APPLICATION_CREDENTIALS names. Writes it to a private file (0600)
 * and points the variable at it, unless a file is already configured.
 */
export function materializeGcpCredentials(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const json = env.GOOGLE_APPLICATION_CREDENTIALS_JSON;
  if (!json || env.GOOGLE_APPLICATION_CREDENTIALS) return undefined;
  try {
    JSON.parse(json);
  } catch {
    throw new Error('GOOGLE_APPLICATION_CREDENTIALS_JSON is not JSON; store the service account key file as the secret, unchanged');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-gcp-'));
  const file = path.join(dir, 'service-account.json');
  fs.writeFileSync(file, json, { mode: 0o600 });
  env.GOOGLE_APPLICATION_CREDENTIALS = file;
  // The file is enough from here on; keep the key out of the environment of child processes.
  delete env.GOOGLE_APPLICATION_CREDENTIALS_JSON;
  return file;
}
