import { ConfigError, resolveSourceEndpoint, SourceEndpoint } from '../config/load';
import type { LoadedConfig } from '../config/load';
import type { SourceUse } from '../config/schema';
import { configFailure } from '../common/failures';
import { redact } from '../common/redact';
import type { SourceConnection } from './driver';
import { driverFor } from './registry';

/**
 * Opens a connection to a configured source for one use: the source's `url`, or its
 * replica's when `replica.useFor` names the use (a table sync's read, say). The URL is read
 * from the environment here, inside the process that connects, and never leaves it;
 * connection errors are stripped of it.
 */
export async function openSource(loaded: LoadedConfig, sourceName: string, use: SourceUse, connectTimeoutMs?: number): Promise<SourceConnection> {
  const source = loaded.config.sources[sourceName];
  if (!source) throw configFailure(`source "${sourceName}" is not declared in ${loaded.file}; add it under sources:`);
  let endpoint: SourceEndpoint;
  try {
    endpoint = resolveSourceEndpoint(sourceName, source, use, loaded.file);
  } catch (err) {
    if (err instanceof ConfigError) throw configFailure(err.message);
    throw err;
  }
  const driver = driverFor(source.type);
  try {
    return await driver.connect(endpoint.url, { schema: source.schema, connectTimeoutMs });
  } catch (err) {
    const where = endpoint.replica ? `${source.type}, its replica` : source.type;
    const message = `cannot connect to source "${sourceName}" (${where}): ${redact((err as Error).message, endpoint.url)}`;
    // Transient (network, server restarting) unless the server said the login is wrong.
    if (driver.classifyError(err) === 'auth') {
      throw configFailure(`${message}; check the credentials and database in the environment variable behind ${endpoint.key}`);
    }
    throw new Error(message);
  }
}
