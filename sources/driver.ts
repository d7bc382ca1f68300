import type { RowBatches } from './row-batches';
import type { RowTextBlocks } from './row-text';
import type { SourceColumn } from './logical-types';
import type { TlsSettings } from '../config/source-tls';
import type { CheckedKey, ComparedColumn, ContentSide } from '../common/content-checksum';

/**
 * One database engine, as bqsync needs it. A driver knows its engine's SQL, types, quoting
 * and error codes; nothing outside its folder branches on the engine (sources/registry.ts).
 */
export interface SourceDriver {
  /** The engine's name, for messages: `MySQL`, `PostgreSQL`. */
  readonly label: string;
  /** The schema read when the config names none; undefined: the database of the connection URL. */
  readonly defaultSchema: string | undefined;
  connect(url: string, options?: ConnectOptions): Promise<SourceConnection>;
  /** Quotes an identifier so that no name can end its quoting. */
  quote(identifier: string): string;
  /** What kind of failure an error of this engine's driver is. */
  classifyError(err: unknown): SourceErrorKind;
  /**
   * An error of this engine's driver in one line without row values: the server's code and
   * its message with quoted values masked; never the driver's `sql`, parameters or details.
   */
  describeError(err: unknown): string;
}

export interface ConnectOptions {
  /** MySQL database or PostgreSQL schema; the driver's default when absent. */
  schema?: string;
  connectTimeoutMs?: number;
  /** The source's `tls:` block, its files read; the URL's own TLS parameters win over it. */
  tls?: TlsSettings;
}

/**
 * - auth: the server refused the login or the database (a person must fix the credentials);
 * - lost-connection: the session ended under the read (killed, restarted, network cut);
 * - cancelled: the server cancelled the read on purpose (a standby's recovery conflict, a timeout);
 * - data: the server refused the query itself (missing table or privilege);
 * - bad-value: the server could not convert or hold a value of the rows (a person must fix the data);
 * - other: anything else, e.g. the server is not reachable yet.
 */
export type SourceErrorKind = 'auth' | 'lost-connection' | 'cancelled' | 'data' | 'bad-value' | 'other';

/** An open session on one source database and schema. */
export interface SourceConnection {
  /** The database (MySQL) or schema (PostgreSQL) this connection reads. */
  readonly schema: string;
  /** Base tables of the schema, sorted by name. */
  listTables(): Promise<string[]>;
  /** Columns in ordinal order, with their logical types; an empty list means the table does not exist. */
  describeTable(table: string): Promise<SourceColumn[]>;
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey(table: string): Promise<string[]>;
  /** The database's own estimates of the tables' rows (statistics, not a count); unknown ones left out. */
  estimateRows(tables: string[]): Promise<Map<string, number>>;
  /** Lowest and highest value of a whole-number column, as text; undefined for an empty table. */
  keyRange(table: string, column: string): Promise<{ min: string; max: string } | undefined>;
  /**
   * Every `every`-th tuple of the key in the key's order (the 1st tuple is not one), at most
   * `most`; undefined when the engine cannot range over these columns' order exactly. Row
   * values: they stay on the worker and in BigQuery, never in Temporal.
   */
  keyBoundaries?(table: string, key: SourceColumn[], every: number, most: number): Promise<KeyValue[][] | undefined>;
  /** The table's comment, for the BigQuery table description. */
  tableComment(table: string): Promise<string | undefined>;
  /** The tables this session's user may not SELECT from. */
  tablesWithoutSelect(tables: string[]): Promise<string[]>;
  /**
   * Streams every row of the table (or those the filter keeps) in `columns` order, each
   * value in its logical type's form, in one consistent snapshot, in batches. The stream
   * pauses the server-side read when the consumer falls behind; a session lost under the
   * read ends the stream with SourceConnectionLost.
   */
  streamRows(table: string, columns: SourceColumn[], filter?: RowFilter): RowBatches;
  /**
   * The same read as streamRows, its rows left as the server's text for decoding on other
   * threads (sources/row-text.ts); absent, or undefined for this read, where the engine or
   * the filter needs its own parsing.
   */
  streamRowText?(table: string, columns: SourceColumn[], filter?: RowFilter): RowTextBlocks | undefined;
  /**
   * What an incremental read needs to know of its cursor column before it reads: the highest
   * value, rows whose value is NULL, and for a time cursor the server's clock (UTC) and the
   * rows dated after it.
   */
  cursorStats(table: string, column: string, time: boolean): Promise<CursorStats>;
  /**
   * Physical block ranges of one table that all read one snapshot (PostgreSQL); absent on
   * an engine that cannot share a snapshot between sessions or range over row addresses.
   */
  readonly sharedSnapshots?: SharedSnapshots;
  /**
   * What `bqsync doctor` reports of this session, in the engine's terms: TLS in use and
   * verified, privileges beyond reading, settings that cut long reads, replica lag.
   */
  checkHealth(): Promise<SourceFinding[]>;
  /**
   * Content verification: the table's checksums, computed by this session in the snapshot
   * that holdSnapshot kept or beginSnapshot started (common/content-checksum.ts).
   */
  contentSide(table: string, key: CheckedKey, columns: ComparedColumn[]): ContentSide;
  /** The next streamRows leaves its snapshot open after the last row, until endSnapshot: checksums then see what it read. */
  holdSnapshot(): void;
  /** Starts a consistent snapshot for checksums, unless streamRows left one open. */
  beginSnapshot(): Promise<void>;
  /** Ends the snapshot that holdSnapshot kept or beginSnapshot started, if any. */
  endSnapshot(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A table read in ranges of its physical blocks: a row's block is not a function of its
 * values (an UPDATE moves it), so every range must read the one snapshot a single session
 * exported and keeps open meanwhile, or a row moved between two reads lands twice or never.
 */
export interface SharedSnapshots {
  /** The table's physical size in blocks now; the ranges cover every block, the last one open-ended. */
  tableBlocks(table: string): Promise<number>;
  /** Opens a read-only snapshot on this connection and exports it; it stays open until close(). */
  exportSnapshot(): Promise<SharedSnapshot>;
  /** Throws unless the exported snapshot's transaction is still open on this connection. */
  checkHeld(): Promise<void>;
  /** The next streamRows reads in `snapshot`, or fails with SourceSnapshotGone having read nothing. */
  readNextIn(snapshot: SharedSnapshot): void;
}

/** An exported snapshot: its ID, and a hash of its transaction horizons that tells it from any later one of the same ID. */
export interface SharedSnapshot {
  id: string;
  fingerprint: string;
}

/**
 * One thing the doctor found: ok; info (nothing to do, or nothing could be told); warn (works,
 * but should change); fail (a sync cannot work). The text says what to change, without secrets.
 */
export interface SourceFinding {
  status: 'ok' | 'info' | 'warn' | 'fail';
  topic: 'tls' | 'privileges' | 'settings' | 'replica';
  text: string;
}

/** Values as text in the server's form (UTC for times); counts as numbers. */
export interface CursorStats {
  /** The highest cursor value; undefined when no row has one. */
  max?: string;
  nulls: number;
  /** Time cursors: the server's clock, and the rows whose cursor is later than it. */
  now?: string;
  ahead: number;
}

/**
 * Rows with `column >= from` (a cursor, or a key range's start; with `orNull`, also those
 * where it is NULL) and `column < below` (a key range's end); values are sent as query
 * parameters, never spliced in.
 */
export interface RowFilter {
  /** The column `from` and `below` bound; absent when only a condition filters. */
  column?: string;
  from?: string;
  below?: string;
  /** Physical blocks [from, below) (sharedSnapshots); no `below`: to the end. Block numbers, not values. */
  blocks?: { from: string; below?: string };
  /** Also the rows whose column is NULL (a cursor a `>=` would never select). */
  orNull?: boolean;
  /** A table's `where:` condition, its `{{n}}` markers standing for values[n]; AND'ed with the rest. */
  condition?: RowCondition;
  /** Key tuples in `[lower, upper)` (keyBoundaries); no lower: from the start, no upper: to the end. */
  keyset?: KeysetRange;
}

/** A key value as the server's text, or bytes for a binary column. */
export type KeyValue = string | Buffer;

export interface KeysetRange {
  columns: SourceColumn[];
  lower?: KeyValue[];
  upper?: KeyValue[];
}

/** An operator's SQL condition whose values are parameters: `{{0}}` marks where values[0] goes. */
export interface RowCondition {
  sql: string;
  values: string[];
}

/** A comment that marks bqsync's extraction queries in the process list / pg_stat_activity. */
export const EXTRACT_QUERY_TAG = '/* bqsync:extract */';

/** The WHERE clause and parameters of a filter, with the engine's quoting and placeholders. */
export function filterClause(filter: RowFilter | undefined, quote: (id: string) => string, placeholder: (i: number) => string) {
  if (!filter) return { where: '', params: [] as string[] };
  const parts: string[] = [];
  const params: string[] = [];
  if (filter.from !== undefined) {
    params.push(filter.from);
    const atLeast = `${quote(filter.column!)} >= ${placeholder(params.length)}`;
    parts.push(filter.orNull ? `(${atLeast} OR ${quote(filter.column!)} IS NULL)` : atLeast);
  }
  if (filter.below !== undefined) {
    params.push(filter.below);
    parts.push(`${quote(filter.column!)} < ${placeholder(params.length)}`);
  }
  if (filter.condition) {
    const { sql, values } = filter.condition;
    const text = sql.replace(/\{\{(\d+)\}\}/g, (_m, i: string) => {
      params.push(values[Number(i)]);
      return placeholder(params.length);
    });
    parts.push(`(${text})`);
  }
  return { where: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** Rejects an identifier no engine can hold; the drivers' quoting builds on it. */
export function checkIdentifier(identifier: string): string {
  if (identifier.includes('\u0000')) throw new Error(`identifier ${JSON.stringify(identifier)} contains a NUL character`);
  return identifier;
}
