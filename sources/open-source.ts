import { ConfigError, resolveSourceUrl } from '../config/load';
import type { LoadedConfig } from '../config/load';
import { configFailure } from '../common/failures';
import { redact } from '../common/redact';
import type { SourceConnection } from './driver';
import { driverFor } from './registry';

/**
 * Opens a connection to a configured source. The URL is read from the environment here,
 * inside the process that connects, and never leaves it; connection errors are stripped of it.
 */
export async function openSource(loaded: LoadedConfig, sourceName: string, connectTimeoutMs?: number): Promise<SourceConnection> {
  const source = loaded.config.sources[sourceName];
  if (!source) throw configFailure(`source "${sourceName}" is not declared in ${loaded.file}; add it under sources:`);
  let url: string;
  try {
    url = resolveSourceUrl(sourceName, source, loaded.file);
  } catch (err) {
    if (err instanceof ConfigError) throw configFailure(err.message);
    throw err;
  }
  const driver = driverFor(source.type);
  try {
    return await driver.connect(url, { schema: source.schema, connectTimeoutMs });
  } catch (err) {
    const message = `cannot connect to source "${sourceName}" (${source.type}): ${redact((err as Error).message, url)}`;
    // Transient (network, server restarting) unless the server said the login is wrong.
    if (driver.classifyError(err) === 'auth') {
      throw configFailure(`${message}; check the credentials and database in the environment variable behind sources.${sourceName}.url`);
    }
    throw new Error(message);
  }
}
