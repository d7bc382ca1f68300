import type { LoadedConfig } from '../../config/load';
import { openSource } from '../../sources/open-source';
import type { SourceConnection } from '../../sources/driver';

/**
 * The one place a table sync opens and closes its source connection. It is closed as soon
 * as `use` is over (planning, resuming and extraction), whatever happened, so that the
 * BigQuery waits that follow do not hold a database connection.
 */
export async function withSource<T>(loaded: LoadedConfig, source: string, use: (reader: SourceConnection) => Promise<T>): Promise<T> {
  const reader = await openSource(loaded, source, 'read');
  try {
    return await use(reader);
  } finally {
    await reader.close();
  }
}
