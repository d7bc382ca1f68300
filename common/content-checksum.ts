/**
 * The vocabulary of content verification, shared by the source drivers, the BigQuery module
 * and the comparison: which columns are compared and how, the pieces of a table that are
 * checksummed, and what each side answers. Only keys, counts and hash sums appear here:
 * row values never leave the databases.
 */

/** The logical kinds (sources/logical-types.ts), repeated here so that common/ stays self-contained. */
export type CheckedKind = 'integer' | 'decimal' | 'float' | 'bool' | 'string' | 'bytes' | 'date' | 'datetime' | 'timestamp' | 'time' | 'json';

/**
 * - value: the canonical text of the value (README "Verifying content" lists it per type);
 * - nullness: only whether it is NULL (hashed columns: the hash key is the worker's secret);
 * - mask: the source value masked as the column rules mask it, against what BigQuery holds.
 */
export type CompareAs = 'value' | 'nullness' | 'mask';
// Floats are not compared at all (activities/table-sync/verify-content.ts says why).

export interface ComparedColumn {
  /** The column's name at the source and in BigQuery (bqsync keeps names). */
  name: string;
  kind: CheckedKind;
  /** The BigQuery type it landed as (`NUMERIC`, `STRING`...): decimals beyond BIGNUMERIC land as text. */
  bigQueryType: string;
  compareAs: CompareAs;
  /** Whole numbers only (an integer, or a decimal of scale 0): a key of this column can be split numerically. */
  wholeNumber?: boolean;
  /** The driver's own SQL that reads the column in its value form (sources/logical-types.ts). */
  readExpression?: string;
}

/** The key a table is split by: its primary key columns, in order. */
export interface CheckedKey {
  columns: ComparedColumn[];
  /** Split numerically by this single whole-number column; else by the hash of the key. */
  numeric: boolean;
}

/**
 * A piece of the table: the rows whose (numeric) key lies in [lo, hi], both ends inclusive,
 * or the rows whose key hash (hex MD5 of the key's canonical text) starts with `prefix`.
 */
export type Segment = { kind: 'range'; lo: string; hi: string } | { kind: 'hash'; prefix: string };

/** One checksum query: the rows of `within`, summed per child segment (labelled by index). */
export interface BucketQuery {
  within: Segment;
  children: Segment[];
}

/**
 * The checksum of one child segment: its rows, and the sums of two 32-bit pieces of each
 * row's MD5 (exact in every engine: at most 2^32 per row, so 2^31 rows fit a signed 64-bit sum).
 */
export interface BucketSum {
  child: number;
  rows: number;
  sumA: string;
  sumB: string;
}

/** A row of a small segment: its key's canonical text, and its columns' hashes in column order. */
export interface LeafRow {
  key: string[];
  /** One entry per compared column: 32 hex digits, `-` for NULL, `v` for a non-NULL value compared by nullness. */
  columnHashes: string[];
}

/** What one side (the source, or BigQuery) computes for the comparison. */
export interface ContentSide {
  /** Lowest and highest numeric key, as text; undefined for an empty table. */
  keyRange(): Promise<{ min: string; max: string } | undefined>;
  buckets(query: BucketQuery): Promise<BucketSum[]>;
  leafRows(segment: Segment): Promise<LeafRow[]>;
}

/** A key that differs, with the compared columns whose values differ (changed rows only). */
export interface DifferingKey {
  key: string[];
  columns?: string[];
  /** Rows with this key in BigQuery, when it is not one (duplicated). */
  copies?: number;
}

/** What a content verification found; only keys, counts and column names. */
export interface ContentReport {
  /** Rows compared: the source's rows. */
  rows: number;
  bigQueryRows: number;
  /** Checksum queries per side, and the segments compared row by row. */
  queries: number;
  ranges: number;
  leafRanges: number;
  /** How the table was split: by its numeric key, or by the hash of its key. */
  split: 'range' | 'hash';
  missing: { count: number; keys: DifferingKey[] };
  extra: { count: number; keys: DifferingKey[] };
  changed: { count: number; keys: DifferingKey[] };
  /** More segments differed than the search follows: the counts are lower bounds. */
  incomplete: boolean;
  /** Columns compared by NULL-ness only (hashed columns). */
  nullnessOnly: string[];
  /** Columns left out of the comparison (floats). */
  notCompared: string[];
  bytesScanned: number;
  seconds: number;
}

export const contentDiffers = (r: ContentReport) => r.missing.count + r.extra.count + r.changed.count > 0 || r.incomplete;
