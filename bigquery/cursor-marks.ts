import type { BigQuery } from '@google-cloud/bigquery';
import { quoteBigQuery } from './names';

/**
 * High-water marks of incremental tables, kept in a small table of each dataset
 * (`_bqsync_cursor_marks`), one row per event and never updated: INSERTs do not contend
 * with each other, where UPDATEs of one table are queued by BigQuery.
 *   read    before a sync reads its first row: the source's highest cursor value then
 *   landed  once that sync's rows are in the destination
 * The next sync of the table reads from the mark of the latest landed load (or earlier).
 */
export const MARKS_TABLE = '_bqsync_cursor_marks';

export type MarkEvent = 'read' | 'landed';

const FIELDS = [
  { name: 'table_name', type: 'STRING', mode: 'REQUIRED' },
  { name: 'sync_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'event', type: 'STRING', mode: 'REQUIRED' },
  { name: 'high_water', type: 'STRING', mode: 'REQUIRED' },
  { name: 'recorded_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

// Datasets whose marks table this process has seen.
const known = new Set<string>();

async function ensureMarksTable(bq: BigQuery, dataset: string): Promise<void> {
  const key = `${bq.projectId}.${dataset}`;
  if (known.has(key)) return;
  const table = bq.dataset(dataset).table(MARKS_TABLE);
  const [exists] = await table.exists();
  if (!exists) {
    try {
      await table.create({ schema: { fields: FIELDS }, description: 'bqsync: high-water marks of incremental loads' });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err; // another sync created it first
    }
  }
  known.add(key);
}

const path = (bq: BigQuery, dataset: string) => quoteBigQuery(`${bq.projectId}.${dataset}.${MARKS_TABLE}`);

export async function recordMark(bq: BigQuery, dataset: string, mark: { table: string; sync: string; event: MarkEvent; highWater: string }): Promise<void> {
  await ensureMarksTable(bq, dataset);
  await bq.query({
    query:
      `INSERT INTO ${path(bq, dataset)} (table_name, sync_id, event, high_water, recorded_at) ` +
      'VALUES (@table, @sync, @event, @highWater, CURRENT_TIMESTAMP())',
    params: mark,
  });
}

/** The mark a sync recorded before its first read (an earlier attempt of it), if any. */
export async function markOfSync(bq: BigQuery, dataset: string, table: string, sync: string): Promise<string | undefined> {
  await ensureMarksTable(bq, dataset);
  const [rows] = await bq.query({
    query: `SELECT high_water FROM ${path(bq, dataset)} WHERE table_name = @table AND sync_id = @sync AND event = 'read' LIMIT 1`,
    params: { table, sync },
  });
  return rows[0]?.high_water ?? undefined;
}

/**
 * The marks that bound the table's next read: the latest landed one and every mark recorded
 * after it (a load that landed but died before it said so leaves only its read mark). Empty
 * when the table has none, e.g. it was loaded before marks were kept.
 */
export async function marksSinceLastLanded(bq: BigQuery, dataset: string, table: string): Promise<string[]> {
  await ensureMarksTable(bq, dataset);
  const marks = path(bq, dataset);
  const [rows] = await bq.query({
    query:
      `SELECT high_water FROM ${marks} WHERE table_name = @table AND recorded_at >= ` +
      `COALESCE((SELECT MAX(recorded_at) FROM ${marks} WHERE table_name = @table AND event = 'landed'), TIMESTAMP '1970-01-01')`,
    params: { table },
  });
  return rows.map((r: { high_water: string }) => r.high_water);
}
