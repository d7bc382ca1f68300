import mysql from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import type { LoadedConfig } from '../config/load';
import { resolveSourceUrl } from '../config/load';

/** Bounds the whole look-up: an estimate is only for the progress display. */
const TIMEOUT_MS = 5000;

/**
 * The sources' own row estimates for `source.table` keys (MySQL information_schema
 * TABLE_ROWS, PostgreSQL pg_class.reltuples): catalog reads, no scan. Used for an ETA while
 * waiting; a source that cannot be reached from here (its URL variable unset, a network
 * boundary) simply gives no estimate.
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
      for (const [table, rows] of await estimateSource(loaded, source, tables)) found.set(`${source}.${table}`, rows);
    } catch {
      // no estimate for this source
    }
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(work), new Promise((r) => (timer = setTimeout(r, TIMEOUT_MS)))]);
  clearTimeout(timer);
  return found;
}

async function estimateSource(loaded: LoadedConfig, sourceName: string, tables: string[]): Promise<Map<string, number>> {
  const source = loaded.config.sources[sourceName];
  const url = resolveSourceUrl(sourceName, source, loaded.file);
  const out = new Map<string, number>();
  if (source.type === 'mysql') {
    const conn = await mysql.createConnection({ uri: url, connectTimeout: TIMEOUT_MS });
    try {
      const [rows] = await conn.query(
        'SELECT TABLE_NAME AS name, TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME IN (?)',
        [source.schema ?? null, tables],
      );
      for (const r of rows as { name: string; n: number | string | null }[]) if (r.n !== null) out.set(r.name, Number(r.n));
    } finally {
      await conn.end();
    }
  } else {
    const pg = new PgClient({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
    await pg.connect();
    try {
      const res = await pg.query<{ name: string; n: string }>(
        `SELECT c.relname AS name, c.reltuples::bigint AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
         WHERE s.nspname = $1 AND c.relname = ANY($2)`,
        [source.schema ?? 'public', tables],
      );
      // -1: never analysed, so unknown.
      for (const r of res.rows) if (Number(r.n) >= 0) out.set(r.name, Number(r.n));
    } finally {
      await pg.end();
    }
  }
  return out;
}
