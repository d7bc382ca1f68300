/**
 * Logical column types (sources/logical-types.ts) as BigQuery types, and how each value is
 * written into a NEWLINE_DELIMITED_JSON load file. Pure logic: every value arrives in its
 * logical type's text form (or bytes), so nothing passes through a JavaScript number or
 * Date on the way.
 */
import type { LogicalKind, LogicalType, SourceColumn } from '../sources/logical-types';

export type BigQueryType =
  | 'INT64'
  | 'NUMERIC'
  | 'BIGNUMERIC'
  | 'FLOAT64'
  | 'BOOL'
  | 'STRING'
  | 'TIME'
  | 'BYTES'
  | 'DATE'
  | 'DATETIME'
  | 'TIMESTAMP'
  | 'JSON';

/** How a value becomes JSON text in the load file (bigquery/row-encoder.ts). */
export type Encoding =
  | 'integer' // exact decimal digits, written as a JSON number
  | 'decimal-string' // exact digits, written as a JSON string so no parser rounds them
  | 'float' // a JSON number; NaN and infinities as the strings BigQuery accepts
  | 'bool'
  | 'string'
  | 'bytes' // base64
  | 'date'
  | 'datetime'
  | 'timestamp-utc'
  | 'time' // 24:00:00 does not fit BigQuery TIME
  | 'json-text'; // valid JSON by the type's promise: embedded as is

/** A source column on its way into BigQuery. */
export interface ColumnMapping {
  source: SourceColumn;
  bigQueryName: string;
  bigQueryType: BigQueryType;
  encoding: Encoding;
  /** Personal data: the value is replaced on the worker before it is written (column rules). */
  transform?: (value: string | Buffer) => string;
}

// BigQuery NUMERIC: 29 integer digits, 9 fractional; BIGNUMERIC: 38 and 38.
const NUMERIC_LIMITS = { intDigits: 29, scale: 9 };
const BIGNUMERIC_LIMITS = { intDigits: 38, scale: 38 };

/** Picks the narrowest exact BigQuery type for DECIMAL(p, s); STRING beyond BIGNUMERIC. */
export function decimalType(precision: number | null | undefined, scale: number | null | undefined): BigQueryType {
  if (precision == null) return 'STRING'; // unconstrained: no exact BigQuery type is sure to hold it
  const s = scale ?? 0;
  const intDigits = precision - s;
  if (intDigits <= NUMERIC_LIMITS.intDigits && s <= NUMERIC_LIMITS.scale) return 'NUMERIC';
  if (intDigits <= BIGNUMERIC_LIMITS.intDigits && s <= BIGNUMERIC_LIMITS.scale) return 'BIGNUMERIC';
  return 'STRING';
}

const SIMPLE: Record<Exclude<LogicalKind, 'decimal'>, [BigQueryType, Encoding]> = {
  integer: ['INT64', 'integer'],
  float: ['FLOAT64', 'float'],
  bool: ['BOOL', 'bool'],
  string: ['STRING', 'string'],
  bytes: ['BYTES', 'bytes'],
  date: ['DATE', 'date'],
  datetime: ['DATETIME', 'datetime'],
  timestamp: ['TIMESTAMP', 'timestamp-utc'],
  time: ['TIME', 'time'],
  json: ['JSON', 'json-text'],
};

/** The BigQuery type of a logical type, and how its values are written. */
export function bigQueryTypeOf(type: LogicalType): { bigQueryType: BigQueryType; encoding: Encoding } {
  if (type.kind !== 'decimal') {
    const [bigQueryType, encoding] = SIMPLE[type.kind];
    return { bigQueryType, encoding };
  }
  const bigQueryType = decimalType(type.precision, type.scale);
  // Beyond BIGNUMERIC the digits land as text, every one kept (NaN too).
  return { bigQueryType, encoding: bigQueryType === 'STRING' ? 'string' : 'decimal-string' };
}

/** A source column mapped to its BigQuery column, under the same name. */
export function bigQueryColumn(source: SourceColumn): ColumnMapping {
  return { source, bigQueryName: source.name, ...bigQueryTypeOf(source.type) };
}
