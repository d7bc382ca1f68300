import type { LogicalType } from '../logical-types';

/** A column as information_schema describes it. */
export interface MysqlColumnInfo {
  name: string;
  /** DATA_TYPE in lower case: `bigint`, `decimal`, `longtext`... */
  dataType: string;
  /** COLUMN_TYPE: `bigint(20) unsigned`, `tinyint(1)`. */
  columnType: string;
  precision: number | null;
  scale: number | null;
  /** MariaDB's JSON: LONGTEXT with a json_valid() check. */
  isJson: boolean;
}

/** The spatial types, read as WKT. */
export const MYSQL_GEOMETRY_TYPES = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);
const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'year']);

/**
 * MySQL/MariaDB types as logical types. Every column is read as itself (no SQL around it):
 * wire-values.ts turns the values the server sends into each type's form.
 */
export function mysqlLogicalType(col: MysqlColumnInfo): { type: LogicalType } {
  const t = col.dataType;
  // tinyint(1) stays an integer: it may hold 2, which is not TRUE.
  if (INTEGER.has(t)) return { type: { kind: 'integer' } };
  if (t === 'bigint') {
    // BIGINT UNSIGNED reaches 2^64-1, past a signed 64-bit integer.
    return /unsigned/i.test(col.columnType) ? { type: { kind: 'decimal', precision: 20, scale: 0 } } : { type: { kind: 'integer' } };
  }
  if (t === 'decimal' || t === 'numeric') return { type: { kind: 'decimal', precision: col.precision, scale: col.scale ?? 0 } };
  if (t === 'float' || t === 'double' || t === 'real') return { type: { kind: 'float' } };
  if (t === 'bit') {
    // BIT(n) as its unsigned integer value (wire-values.ts); BIT(64) may exceed a signed 64-bit integer.
    return (col.precision ?? 1) > 63 ? { type: { kind: 'decimal', precision: 20, scale: 0 } } : { type: { kind: 'integer' } };
  }
  if (BINARY.has(t)) return { type: { kind: 'bytes' } };
  if (t === 'date') return { type: { kind: 'date' } };
  if (t === 'datetime') return { type: { kind: 'datetime' } };
  // Read in a UTC session (connection.ts), so the text is already UTC.
  if (t === 'timestamp') return { type: { kind: 'timestamp' } };
  if (t === 'json' || (t === 'longtext' && col.isJson)) return { type: { kind: 'json' } };
  // WKT (wire-values.ts): source SRIDs vary, and BigQuery GEOGRAPHY is WGS84 only.
  if (MYSQL_GEOMETRY_TYPES.has(t)) return { type: { kind: 'string' } };
  // char, varchar, text, enum, set, time (its range passes a day) and the rest: the server's text.
  return { type: { kind: 'string' } };
}
