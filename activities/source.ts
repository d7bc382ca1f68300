import { Readable } from 'node:stream';
import { ColumnMapping, SourceColumn } from './type-mapping';
import { RawValue } from './row-encoder';

/** What the sync needs from a source database; one implementation per engine. */
export interface SourceReader {
  /** Base tables of the configured database/schema, sorted by name. */
  listTables(): Promise<string[]>;
  /** Columns in ordinal order; an empty list means the table does not exist. */
  describeTable(table: string): Promise<SourceColumn[]>;
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey(table: string): Promise<string[]>;
  /** The table's comment, for the BigQuery table description. */
  tableComment(table: string): Promise<string | undefined>;
  /** Maps a column to its BigQuery type and encoding (name left to the caller). */
  mapColumn(column: SourceColumn): Omit<ColumnMapping, 'bigQueryName'>;
  /**
   * Streams every row of the table (or those with `from.column >= from.value`) as raw
   * values in `columns` order, in one consistent snapshot. The stream pauses the
   * server-side read when the consumer falls behind.
   */
  streamRows(table: string, columns: ColumnMapping[], from?: RowFilter): Readable & AsyncIterable<RawValue[]>;
  close(): Promise<void>;
}

/** A comment that marks bqsync's extraction queries in the process list / pg_stat_activity. */
export const EXTRACT_QUERY_TAG = '/* bqsync:extract */';

/** Rows from a cursor value on; the value is sent as a query parameter, never spliced in. */
export interface RowFilter {
  column: string;
  value: string;
}
