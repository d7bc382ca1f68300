import type { ChecksumDialect } from '../common/checksum-query';
import type { ComparedColumn } from '../common/content-checksum';
import { quoteBigQuery } from './names';

/** Decimal text without trailing fractional zeros (a decimal held as STRING keeps the source's zeros). */
const plainDecimal = (t: string) => `IF(STRPOS(${t}, '.') > 0, RTRIM(RTRIM(${t}, '0'), '.'), ${t})`;

/**
 * JSON as its type and its top-level keys (README "Verifying content": why not the whole
 * text). The CASE keeps NULL away from JSON_TYPE and JSON_KEYS, which the emulator fails on.
 */
function jsonShape(ref: string): string {
  const keys = `ARRAY_TO_STRING(ARRAY(SELECT TO_HEX(MD5(k)) FROM UNNEST(JSON_KEYS(${ref}, 1)) AS k ORDER BY 1), '')`;
  return `CASE WHEN ${ref} IS NULL THEN NULL ELSE CONCAT(JSON_TYPE(${ref}), ':', ${keys}) END`;
}

/** The canonical text of each logical type in BigQuery, from the type the column landed as. */
function canonical(c: ComparedColumn, ref: string, bytesAsBase64Text: boolean): string {
  // Hashed and masked columns, and decimals beyond BIGNUMERIC, are text in BigQuery.
  if (c.bigQueryType === 'STRING') return c.kind === 'decimal' ? plainDecimal(ref) : ref;
  switch (c.kind) {
    case 'integer':
      return `CAST(${ref} AS STRING)`;
    case 'decimal':
      return plainDecimal(`CAST(${ref} AS STRING)`);
    case 'bool':
      return `CAST(${ref} AS STRING)`;
    case 'bytes':
      // The emulator keeps a BYTES value of a JSON load as its base64 text (README: emulator gaps).
      return bytesAsBase64Text ? `TO_HEX(FROM_BASE64(SAFE_CONVERT_BYTES_TO_STRING(${ref})))` : `TO_HEX(${ref})`;
    case 'date':
      return `CAST(${ref} AS STRING)`;
    // CAST of a DATE writes a 4-digit year; FORMAT's %Y would not for years below 1000.
    case 'datetime':
      return `CONCAT(CAST(CAST(${ref} AS DATE) AS STRING), ' ', FORMAT_DATETIME('%H:%M:%E6S', ${ref}))`;
    case 'timestamp':
      return `CONCAT(CAST(DATE(${ref}, 'UTC') AS STRING), ' ', FORMAT_TIMESTAMP('%H:%M:%E6S', ${ref}, 'UTC'))`;
    case 'time':
      return `FORMAT_TIME('%H:%M:%E6S', ${ref})`;
    case 'json':
      return jsonShape(ref);
    case 'float':
    case 'string':
      return `CAST(${ref} AS STRING)`;
  }
}

/** The BigQuery side's dialect for the checksum queries of common/checksum-query.ts. */
export function bigQueryChecksumDialect(project: string, dataset: string, table: string, onEmulator = false): ChecksumDialect {
  return {
    table: quoteBigQuery(`${project}.${dataset}.${table}`),
    quote: quoteBigQuery,
    ref: (c) => quoteBigQuery(c.name),
    canonical: (c, ref) => canonical(c, ref, onEmulator),
    masked: (t) => t, // BigQuery holds the masked text already
    byteLength: (t) => `CAST(BYTE_LENGTH(${t}) AS STRING)`,
    md5Hex: (t) => `TO_HEX(MD5(${t}))`,
    concat: (parts) => (parts.length === 1 ? `CONCAT(${parts[0]}, '')` : `CONCAT(${parts.join(', ')})`),
    prefix: (t, n) => `SUBSTR(${t}, 1, ${n})`,
    hexPiece: (h, from) => `CAST(CONCAT('0x', SUBSTR(${h}, ${from}, 8)) AS INT64)`,
    asText: (e) => `CAST(${e} AS STRING)`,
    placeholder: (i) => `@p${i}`,
    keyValue: (p, c) => `CAST(${p} AS ${c.bigQueryType === 'INT64' ? 'INT64' : 'BIGNUMERIC'})`,
  };
}
