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

/** Creates the dataset's marks table when it is missing; once per sync, before the other calls. */
export async function ensureMarksTable(bq: BigQuery, dataset: string): Promise<void> {
  const table = bq.dataset(dataset).table(MARKS_TABLE);
  const [exists] = await table.exists();
  if (!exists) {
    try {
      await table.create({ schema: { fields: FIELDS }, description: 'bqsync: high-water marks of incremental loads' });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err; // another sync created it first
    }
  }
}

const path = (bq: BigQuery, dataset: string) => quoteBigQuery(`${bq.projectId}.${dataset}.${MARKS_TABLE}`);

export async function recordMark(bq: BigQuery, dataset: string, mark: { table: string; sync: string; event: MarkEvent; highWater: string }): Promise<void> {
  await bq.query({
    query:
      `INSERT INTO ${path(bq, dataset)} (table_name, sync_id, event, high_water, recorded_at) ` +
      'VALUES (@tableName, @syncId, @event, @highWater, CURRENT_TIMESTAMP())',
    params: { tableName: mark.table, syncId: mark.sync, event: mark.event, highWater: mark.highWater },
  });
}

/** The mark a sync recorded before its first read (an earlier attempt of it), if any. */
export async function markOfSync(bq: BigQuery, dataset: string, table: string, sync: string): Promise<string | undefined> {
  const [rows] = await bq.query({
    query: `SELECT high_water FROM ${path(bq, dataset)} WHERE table_name = @tableName AND sync_id = @syncId AND event = 'read' LIMIT 1`,
    params: { tableName: table, syncId: sync },
  });
  return rows[0]?.high_water ?? undefined;
}

/**
 * The marks that bound the table's next read: the latest landed one and every mark recorded
 * after it (a load that landed but died before it said so leaves only its read mark). Empty
 * when the table has none, e.g. it was loaded before marks were kept.
 */
export async function marksSinceLastLanded(bq: BigQuery, dataset: string, table: string): Promise<string[]> {
  const marks = path(bq, dataset);
  const [rows] = await bq.query({
    query:
      `SELECT high_water FROM ${marks} WHERE table_name = @tableName AND recorded_at >= ` +
      `COALESCE((SELECT MAX(recorded_at) FROM ${marks} WHERE table_name = @tableName AND event = 'landed'), TIMESTAMP '1970-01-01')`,
    params: { tableName: table },
  });
  return rows.map((r: { high_water: string }) => r.high_water);
}
