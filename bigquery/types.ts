/**
 * Source column types to BigQuery types, and how each value is written into a
 * NEWLINE_DELIMITED_JSON load file. Pure logic: every value arrives as the database's own
 * text (or bytes), so nothing passes through a JavaScript number or Date on the way.
 */

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

/** How a value (the database's text, or bytes) becomes JSON text in the load file. */
export type Encoding =
  | 'integer' // exact decimal digits, written as a JSON number
  | 'decimal-string' // exact digits, written as a JSON string so no parser rounds them
  | 'float' // a JSON number; NaN and infinities as the strings BigQuery accepts
  | 'bool-pg' // 't' / 'f'
  | 'string'
  | 'bytes-buffer' // MySQL binary values as Buffers
  | 'bytes-pg-hex' // PostgreSQL bytea text '\x0a1b...'
  | 'date'
  | 'datetime'
  | 'timestamp-utc' // the session runs in UTC, so the text is already UTC
  | 'time' // 'HH:MM:SS[.ffffff]'; PostgreSQL's 24:00:00 does not fit BigQuery TIME
  | 'json-text'; // the database guarantees valid JSON: embedded as is

export interface SourceColumn {
  name: string;
  /** Base type name in lower case: `bigint`, `numeric`, `timestamptz`... */
  dataType: string;
  /** Full declared type, for messages: `bigint(20) unsigned`, `numeric(12,2)`. */
  columnType: string;
  precision?: number | null;
  scale?: number | null;
  unsigned?: boolean;
  nullable: boolean;
  /** MariaDB JSON is LONGTEXT with a json_valid() check. */
  isJson?: boolean;
  comment?: string;
}

export interface ColumnMapping {
  source: SourceColumn;
  bigQueryName: string;
  bigQueryType: BigQueryType;
  encoding: Encoding;
  /** Select-list expression override (quoted identifiers only, never values). */
  selectExpression?: string;
  /** Personal data: the value is replaced on the worker before it is written (column-rules.ts). */
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

const exact = (t: BigQueryType): Encoding => (t === 'STRING' ? 'string' : 'decimal-string');

export function mapMysqlColumn(col: SourceColumn, quote: (id: string) => string): Omit<ColumnMapping, 'bigQueryName'> {
  const t = col.dataType;
  switch (t) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'year':
      // tinyint(1) stays an integer: it may hold 2, which is not TRUE.
      return { source: col, bigQueryType: 'INT64', encoding: 'integer' };
    case 'bigint':
      return col.unsigned
        ? { source: col, bigQueryType: 'NUMERIC', encoding: 'decimal-string' } // up to 2^64-1
        : { source: col, bigQueryType: 'INT64', encoding: 'integer' };
    case 'decimal':
    case 'numeric': {
      const bq = decimalType(col.precision, col.scale);
      return { source: col, bigQueryType: bq, encoding: exact(bq) };
    }
    case 'float':
    case 'double':
    case 'real':
      return { source: col, bigQueryType: 'FLOAT64', encoding: 'float' };
    case 'bit': {
      // BIT(n) as its unsigned integer value; BIT(64) may exceed INT64.
      const wide = (col.precision ?? 1) > 63;
      return {
        source: col,
        bigQueryType: wide ? 'NUMERIC' : 'INT64',
        encoding: wide ? 'decimal-string' : 'integer',
        selectExpression: `CAST(${quote(col.name)} AS UNSIGNED)`,
      };
    }
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { source: col, bigQueryType: 'BYTES', encoding: 'bytes-buffer' };
    case 'date':
      return { source: col, bigQueryType: 'DATE', encoding: 'date' };
    case 'datetime':
      return { source: col, bigQueryType: 'DATETIME', encoding: 'datetime' };
    case 'timestamp':
      return { source: col, bigQueryType: 'TIMESTAMP', encoding: 'timestamp-utc' };
    case 'json':
      return { source: col, bigQueryType: 'JSON', encoding: 'json-text' };
    case 'longtext':
      return col.isJson
        ? { source: col, bigQueryType: 'JSON', encoding: 'json-text' }
        : { source: col, bigQueryType: 'STRING', encoding: 'string' };
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
      return { source: col, bigQueryType: 'STRING', encoding: 'string', selectExpression: `ST_AsText(${quote(col.name)})` };
    default:
      // char, varchar, text, enum, set, time and anything else: the database's own text.
      return { source: col, bigQueryType: 'STRING', encoding: 'string' };
  }
}

export function mapPostgresColumn(col: SourceColumn, quote: (id: string) => string): Omit<ColumnMapping, 'bigQueryName'> {
  // Arrays (type names start with "_") as JSON arrays, nested and typed as PostgreSQL sees them.
  if (col.dataType.startsWith('_')) {
    return { source: col, bigQueryType: 'JSON', encoding: 'json-text', selectExpression: `to_jsonb(${quote(col.name)})` };
  }
  switch (col.dataType) {
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
      return { source: col, bigQueryType: 'INT64', encoding: 'integer' };
    case 'numeric': {
      const bq = decimalType(col.precision, col.scale);
      return { source: col, bigQueryType: bq, encoding: exact(bq) };
    }
    case 'float4':
    case 'float8':
      return { source: col, bigQueryType: 'FLOAT64', encoding: 'float' };
    case 'bool':
      return { source: col, bigQueryType: 'BOOL', encoding: 'bool-pg' };
    case 'bytea':
      return { source: col, bigQueryType: 'BYTES', encoding: 'bytes-pg-hex' };
    case 'date':
      return { source: col, bigQueryType: 'DATE', encoding: 'date' };
    case 'timestamp':
      return { source: col, bigQueryType: 'DATETIME', encoding: 'datetime' };
    case 'timestamptz':
      return { source: col, bigQueryType: 'TIMESTAMP', encoding: 'timestamp-utc' };
    case 'time':
      return { source: col, bigQueryType: 'TIME', encoding: 'time' };
    case 'json':
    case 'jsonb':
      return { source: col, bigQueryType: 'JSON', encoding: 'json-text' };
    case 'money':
      // money's text depends on lc_monetary ("$1,234.56"); as numeric it is exact, 2 decimals.
      return { source: col, bigQueryType: 'NUMERIC', encoding: 'decimal-string', selectExpression: `${quote(col.name)}::numeric` };
    default:
      // text, varchar, char, uuid, enums, timetz, interval (ISO 8601), inet, cidr, macaddr,
      // bit, xml, ranges, geometric types...: PostgreSQL's own text form.
      return { source: col, bigQueryType: 'STRING', encoding: 'string' };
  }
}

// BigQuery column names: letters, digits and underscores, not starting with a digit.
const BIGQUERY_COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;
const BIGQUERY_TABLE = /^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd} ]{1,1024}$/u;

export function isValidBigQueryColumnName(name: string): boolean {
  return BIGQUERY_COLUMN.test(name) && !/^(_table_|_file_|_partition|_row_timestamp|__root__|_colidentifier)/i.test(name);
}

export function isValidBigQueryTableName(name: string): boolean {
  return BIGQUERY_TABLE.test(name);
}
