import type { ChecksumDialect } from '../../common/checksum-query';
import type { ComparedColumn } from '../../common/content-checksum';
import { quoteMysql } from './errors';
import { MYSQL_GEOMETRY_TYPES } from './types';

/** Decimal text without trailing fractional zeros: `1.500` is `1.5`, `2.000` is `2`. */
const plainDecimal = (t: string) => `IF(LOCATE('.', ${t}) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${t})), ${t})`;

/** BigQuery holds years 0001 to 9999 only: zero dates and the like land as NULL (bigquery/row-encoder.ts). */
const inRange = (ref: string) => `YEAR(${ref}) BETWEEN 1 AND 9999 AND MONTH(${ref}) > 0 AND DAYOFMONTH(${ref}) > 0`;

/** JSON as its type and its top-level keys (README "Verifying content": why not the whole text). */
function jsonShape(ref: string): string {
  const type = `CASE JSON_TYPE(${ref}) WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'STRING' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' ELSE 'number' END`;
  const keys =
    `(SELECT GROUP_CONCAT(MD5(jk.k) ORDER BY MD5(jk.k) SEPARATOR '') FROM ` +
    `JSON_TABLE(JSON_KEYS(${ref}), '$[*]' COLUMNS (k LONGTEXT CHARACTER SET utf8mb4 PATH '$')) AS jk)`;
  return `CONCAT(${type}, ':', COALESCE(${keys}, ''))`;
}

/**
 * The server-side form of a column whose value form the driver makes from the wire
 * (wire-values.ts): BIT's unsigned value, which `CAST(... AS UNSIGNED)` gives alike; geometry's
 * WKT, whose coordinates the driver writes as the shortest text of each double (and on MySQL 8
 * longitude first), which neither server's ST_AsText matches: null, not compared.
 */
export function mysqlChecksumExpression(dataType: string, quoted: string): string | null | undefined {
  if (dataType === 'bit') return `CAST(${quoted} AS UNSIGNED)`;
  if (MYSQL_GEOMETRY_TYPES.has(dataType)) return null;
  return undefined;
}

/** The canonical text of each logical type in MySQL/MariaDB (common/checksum-query.ts). */
function canonical(c: ComparedColumn, ref: string): string {
  switch (c.kind) {
    case 'integer':
      return `CAST(${ref} AS CHAR)`;
    case 'decimal':
      return plainDecimal(`CAST(${ref} AS CHAR)`);
    case 'bool':
      return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} THEN 'true' ELSE 'false' END`;
    case 'bytes':
      return `LOWER(HEX(${ref}))`;
    case 'date':
      return `CASE WHEN ${inRange(ref)} THEN DATE_FORMAT(${ref}, '%Y-%m-%d') END`;
    case 'datetime':
    case 'timestamp':
      // The session is in UTC (sql.ts): a TIMESTAMP's text is UTC.
      return `CASE WHEN ${inRange(ref)} THEN DATE_FORMAT(${ref}, '%Y-%m-%d %H:%i:%s.%f') END`;
    case 'time':
      return `TIME_FORMAT(${ref}, '%H:%i:%s.%f')`;
    case 'json':
      // A JSON null lands as SQL NULL.
      return `CASE WHEN ${ref} IS NULL OR JSON_TYPE(${ref}) = 'NULL' THEN NULL ELSE ${jsonShape(ref)} END`;
    case 'float':
    case 'string':
      // The text as read, as UTF-8 bytes whatever the column's character set.
      return `CONVERT(${ref} USING utf8mb4)`;
  }
}

export function mysqlChecksumDialect(schema: string, table: string): ChecksumDialect {
  return {
    table: `${quoteMysql(schema)}.${quoteMysql(table)}`,
    quote: quoteMysql,
    ref: (c) => c.readExpression ?? quoteMysql(c.name),
    canonical,
    masked: (ref) => {
      const t = `CONVERT(${ref} USING utf8mb4)`;
      return `CASE WHEN CHAR_LENGTH(${t}) > 4 THEN CONCAT(REPEAT('*', CHAR_LENGTH(${t}) - 4), RIGHT(${t}, 4)) ELSE REPEAT('*', CHAR_LENGTH(${t})) END`;
    },
    byteLength: (t) => `CAST(LENGTH(${t}) AS CHAR)`,
    md5Hex: (t) => `MD5(${t})`,
    concat: (parts) => `CONCAT(${parts.join(', ')})`,
    prefix: (t, n) => `LEFT(${t}, ${n})`,
    hexPiece: (h, from) => `CAST(CONV(SUBSTRING(${h}, ${from}, 8), 16, 10) AS UNSIGNED)`,
    asText: (e) => `CAST(${e} AS CHAR)`,
    placeholder: () => '?',
    keyValue: (p, c) => (c.kind === 'integer' ? `CAST(${p} AS SIGNED)` : c.kind === 'decimal' ? `CAST(${p} AS DECIMAL(65,0))` : p),
  };
}

/** GROUP_CONCAT stops at 1024 bytes by default: JSON keys are many 32-digit hashes. */
export const CHECKSUM_SESSION = 'SET SESSION group_concat_max_len = 16777216';
