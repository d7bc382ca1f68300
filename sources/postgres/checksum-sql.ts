import type { ChecksumDialect } from '../../common/checksum-query';
import type { ComparedColumn } from '../../common/content-checksum';
import { quotePostgres } from './errors';

/** Decimal text without trailing fractional zeros: `1.500` is `1.5`, `2.000` is `2`. */
const plainDecimal = (t: string) => `CASE WHEN strpos(${t}, '.') > 0 THEN rtrim(rtrim(${t}, '0'), '.') ELSE ${t} END`;

/** JSON as its type and its top-level keys (README "Verifying content": why not the whole text). */
function jsonShape(ref: string): string {
  const j = `(${ref})::jsonb`;
  const keys = `(SELECT string_agg(md5(k), '' ORDER BY md5(k)) FROM jsonb_object_keys(CASE WHEN jsonb_typeof(${j}) = 'object' THEN ${j} END) AS k)`;
  return `jsonb_typeof(${j}) || ':' || COALESCE(${keys}, '')`;
}

/** The canonical text of each logical type in PostgreSQL (common/checksum-query.ts). */
function canonical(c: ComparedColumn, ref: string): string {
  switch (c.kind) {
    case 'integer':
      return `(${ref})::text`;
    case 'decimal':
      // NaN lands as NULL in NUMERIC and BIGNUMERIC (bigquery/row-encoder.ts), as text in STRING.
      return c.bigQueryType === 'STRING'
        ? plainDecimal(`(${ref})::text`)
        : `CASE WHEN (${ref}) = 'NaN' THEN NULL ELSE ${plainDecimal(`(${ref})::text`)} END`;
    case 'bool':
      return `CASE WHEN ${ref} IS NULL THEN NULL WHEN ${ref} THEN 'true' ELSE 'false' END`;
    case 'bytes':
      return `encode(${ref}, 'hex')`;
    // Years 0001 to 9999 only, as BigQuery holds them: infinity, BC and 5-digit years land as NULL.
    case 'date':
      return `CASE WHEN ${ref} BETWEEN '0001-01-01' AND '9999-12-31' THEN to_char(${ref}, 'YYYY-MM-DD') END`;
    case 'datetime':
      return `CASE WHEN ${ref} >= '0001-01-01' AND ${ref} < '10000-01-01' THEN to_char(${ref}, 'YYYY-MM-DD HH24:MI:SS.US') END`;
    case 'timestamp':
      // The session is in UTC (sql.ts), so to_char writes UTC.
      return `CASE WHEN ${ref} >= '0001-01-01 00:00:00+00' AND ${ref} < '10000-01-01 00:00:00+00' THEN to_char(${ref}, 'YYYY-MM-DD HH24:MI:SS.US') END`;
    case 'time':
      return `CASE WHEN ${ref} < '24:00:00' THEN to_char(${ref}, 'HH24:MI:SS.US') END`;
    case 'json':
      // A JSON null lands as SQL NULL.
      return `CASE WHEN ${ref} IS NULL OR jsonb_typeof((${ref})::jsonb) = 'null' THEN NULL ELSE ${jsonShape(ref)} END`;
    case 'float':
    case 'string':
      // concat() writes the type's output text, as the extraction reads it: a ::text cast
      // would drop char(n) padding and add /32 to an inet. concat() makes NULL '': kept NULL.
      return `CASE WHEN ${ref} IS NULL THEN NULL ELSE concat(${ref}) END`;
  }
}

export function postgresChecksumDialect(schema: string, table: string): ChecksumDialect {
  return {
    table: `${quotePostgres(schema)}.${quotePostgres(table)}`,
    quote: quotePostgres,
    ref: (c) => c.readExpression ?? quotePostgres(c.name),
    canonical,
    masked: (ref) => {
      const t = `(${ref})::text`;
      return `CASE WHEN length(${t}) > 4 THEN repeat('*', length(${t}) - 4) || right(${t}, 4) ELSE repeat('*', length(${t})) END`;
    },
    byteLength: (t) => `octet_length(${t})::text`,
    md5Hex: (t) => `md5(${t})`,
    concat: (parts) => `(${parts.join(' || ')})`,
    prefix: (t, n) => `left(${t}, ${n})`,
    hexPiece: (h, from) => `('x' || substr(${h}, ${from}, 8))::bit(32)::bigint`,
    asText: (e) => `(${e})::text`,
    placeholder: (i) => `$${i}`,
    keyValue: (p, c) => (c.kind === 'integer' ? `${p}::bigint` : c.kind === 'decimal' ? `${p}::numeric` : p),
  };
}
