import { ConfigError, resolveSourceUrl } from '../config/load';
import type { LoadedConfig } from '../config/load';
import { configFailure } from '../common/failures';
import { redact } from '../common/redact';
import { MysqlSource } from './mysql/connection';
import { PostgresSource } from './postgres/connection';
import { SourceReader } from './driver';

/**
 * Opens a connection to a configured source. The URL is read from the environment here,
 * inside the activity, and never leaves this process; connection errors are stripped of it.
 */
export async function openSource(loaded: LoadedConfig, sourceName: string): Promise<SourceReader> {
  const source = loaded.config.sources[sourceName];
  if (!source) throw configFailure(`source "${sourceName}" is not declared in ${loaded.file}; add it under sources:`);
  let url: string;
  try {
    url = resolveSourceUrl(sourceName, source, loaded.file);
  } catch (err) {
    if (err instanceof ConfigError) throw configFailure(err.message);
    throw err;
  }
  try {
    return source.type === 'mysql'
      ? await MysqlSource.connect(url, source.schema)
      : await PostgresSource.connect(url, source.schema);
  } catch (err) {
    const e = err as Error & { code?: string };
    // Transient (network, server restarting) unless the server said the login is wrong.
    const message = `cannot connect to source "${sourceName}" (${source.type}): ${redact(e.message, url)}`;
    if (e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === '28P01' || e.code === '28000' || e.code === 'ER_BAD_DB_ERROR' || e.code === '3D000') {
      throw configFailure(`${message}; check the credentials and database in the environment variable behind sources.${sourceName}.url`);
    }
    throw new Error(message);
  }
}
