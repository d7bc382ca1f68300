import { ColumnMapping, SourceColumn } from '../bigquery/types';
import { RowBatches } from './row-batches';

/** What the sync needs from a source database; one implementation per engine. */
export interface SourceReader {
  /** Base tables of the configured database/schema, sorted by name. */
  listTables(): Promise<string[]>;
  /** Columns in ordinal order; an empty list means the table does not exist. */
  describeTable(table: string): Promise<SourceColumn[]>;
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey(table: string): Promise<string[]>;
  /** The database's own estimate of the table's rows (statistics, not a count). */
  estimateRows(table: string): Promise<number>;
  /** Lowest and highest value of an integer column, as text; undefined for an empty table. */
  keyRange(table: string, column: string): Promise<{ min: string; max: string } | undefined>;
  /** The table's comment, for the BigQuery table description. */
  tableComment(table: string): Promise<string | undefined>;
  /** Maps a column to its BigQuery type and encoding (name left to the caller). */
  mapColumn(column: SourceColumn): Omit<ColumnMapping, 'bigQueryName'>;
  /**
   * Streams every row of the table (or those the filter keeps) as raw values in `columns`
   * order, in one consistent snapshot, in batches of rows. The stream pauses the
   * server-side read when the consumer falls behind.
   */
  streamRows(table: string, columns: ColumnMapping[], from?: RowFilter): RowBatches;
  close(): Promise<void>;
}

/** A comment that marks bqsync's extraction queries in the process list / pg_stat_activity. */
export const EXTRACT_QUERY_TAG = '/* bqsync:extract */';

/**
 * Rows with `column >= from` (a cursor, or a key range's start) and `column < below` (a key
 * range's end); values are sent as query parameters, never spliced in.
 */
export interface RowFilter {
  column: string;
  from?: string;
  below?: string;
}

/** The WHERE clause and parameters of a filter, with the engine's quoting and placeholders. */
export function filterClause(filter: RowFilter | undefined, quote: (id: string) => string, placeholder: (i: number) => string) {
  if (!filter) return { where: '', params: [] as string[] };
  const parts: string[] = [];
  const params: string[] = [];
  if (filter.from !== undefined) {
    params.push(filter.from);
    parts.push(`${quote(filter.column)} >= ${placeholder(params.length)}`);
  }
  if (filter.below !== undefined) {
    params.push(filter.below);
    parts.push(`${quote(filter.column)} < ${placeholder(params.length)}`);
  }
  return { where: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}
