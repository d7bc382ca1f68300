import type { LoadedConfig } from '../config/load';
import { openSource } from '../sources/open-source';

/** Bounds the whole look-up: an estimate is only for the progress display. */
const TIMEOUT_MS = 5000;

/**
 * The sources' own row estimates for `source.table` keys (catalog statistics, no scan),
 * for an ETA while waiting. A source that cannot be reached from here (its URL variable
 * unset, a network boundary) simply gives no estimate.
 */
export async function estimateRows(loaded: LoadedConfig, keys: string[]): Promise<Map<string, number>> {
  const bySource = new Map<string, string[]>();
  for (const key of keys) {
    const dot = key.indexOf('.');
    const source = key.slice(0, dot);
    if (!loaded.config.sources[source]) continue;
    bySource.set(source, [...(bySource.get(source) ?? []), key.slice(dot + 1)]);
  }
  const found = new Map<string, number>();
  const work = [...bySource].map(async ([source, tables]) => {
    try {
      const connection = await openSource(loaded, source, 'estimates', TIMEOUT_MS);
      try {
        for (const [table, rows] of await connection.estimateRows(tables)) found.set(`${source}.${table}`, rows);
      } finally {
        await connection.close();
      }
    } catch {
      // no estimate for this source
    }
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(work), new Promise((r) => (timer = setTimeout(r, TIMEOUT_MS)))]);
  clearTimeout(timer);
  return found;
}
