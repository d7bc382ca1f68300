import { ConfigError, resolveSourceEndpoint, SourceEndpoint } from '../config/load';
import type { LoadedConfig } from '../config/load';
import type { SourceUse } from '../config/schema';
import { sourceTlsSettings } from '../config/source-tls';
import { configFailure } from '../common/failures';
import { redact } from '../common/redact';
import type { SourceConnection } from './driver';
import { driverFor } from './registry';
import { tlsFailure, tlsFix } from './tls-failures';
import { TlsSettingsError } from './tls-url';

/**
 * Opens a connection to a configured source for one use: the source's `url`, or its
 * replica's when `replica.useFor` names the use (a table sync's read, say); both with the
 * source's `tls:` settings. The URL (and the TLS key) are read from the environment here,
 * inside the process that connects, and never leave it; connection errors are stripped of
 * the URL.
 */
export async function openSource(loaded: LoadedConfig, sourceName: string, use: SourceUse, connectTimeoutMs?: number): Promise<SourceConnection> {
  const source = loaded.config.sources[sourceName];
  if (!source) throw configFailure(`source "${sourceName}" is not declared in ${loaded.file}; add it under sources:`);
  let endpoint: SourceEndpoint;
  let tls;
  try {
    endpoint = resolveSourceEndpoint(sourceName, source, use, loaded.file);
    tls = sourceTlsSettings(sourceName, source, loaded.file);
  } catch (err) {
    if (err instanceof ConfigError) throw configFailure(err.message);
    throw err;
  }
  const driver = driverFor(source.type);
  try {
    return await driver.connect(endpoint.url, { schema: source.schema, connectTimeoutMs, tls });
  } catch (err) {
    const where = endpoint.replica ? `${source.type}, its replica` : source.type;
    const message = `cannot connect to source "${sourceName}" (${where}): ${redact((err as Error).message, endpoint.url)}`;
    if (err instanceof TlsSettingsError) {
      throw configFailure(`${message}; fix it in the environment variable behind ${endpoint.key}`);
    }
    // A certificate this worker does not trust fails the same way on every retry.
    const tlsKind = tlsFailure(err);
    if (tlsKind) throw configFailure(`${message}: ${tlsFix(tlsKind, sourceName)}`);
    // Transient (network, server restarting) unless the server said the login is wrong.
    if (driver.classifyError(err) === 'auth') {
      throw configFailure(`${message}; check the credentials and database in the environment variable behind ${endpoint.key}`);
    }
    throw new Error(message);
  }
}
