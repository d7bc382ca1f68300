import type { LogicalType } from '../logical-types';

/** A column as pg_catalog describes it. */
export interface PostgresColumnInfo {
  name: string;
  /** pg_type.typname, a domain's base type for a domain: `int8`, `numeric`, `_text` for text[]. */
  typeName: string;
  /** numeric(p,s) only. */
  precision: number | null;
  scale: number | null;
}

const INTEGER = new Set(['int2', 'int4', 'int8', 'oid']);

/**
 * PostgreSQL types as logical types, with the SQL that reads a column in its type's value
 * form where the column's own text is not that form.
 */
export function postgresLogicalType(col: PostgresColumnInfo, quote: (id: string) => string): { type: LogicalType; readExpression?: string } {
  const t = col.typeName;
  // Arrays (type names start with "_") as JSON arrays, nested and typed as PostgreSQL sees them.
  if (t.startsWith('_')) return { type: { kind: 'json' }, readExpression: `to_jsonb(${quote(col.name)})` };
  if (INTEGER.has(t)) return { type: { kind: 'integer' } };
  if (t === 'numeric') return { type: { kind: 'decimal', precision: col.precision, scale: col.scale ?? 0 } };
  if (t === 'float4' || t === 'float8') return { type: { kind: 'float' } };
  if (t === 'bool') return { type: { kind: 'bool' } };
  if (t === 'bytea') return { type: { kind: 'bytes' } };
  if (t === 'date') return { type: { kind: 'date' } };
  if (t === 'timestamp') return { type: { kind: 'datetime' } };
  if (t === 'timestamptz') return { type: { kind: 'timestamp' } };
  if (t === 'time') return { type: { kind: 'time' } };
  if (t === 'json' || t === 'jsonb') return { type: { kind: 'json' } };
  // money's text depends on lc_monetary ("$1,234.56"); as numeric it is exact, with 2 decimals.
  if (t === 'money') return { type: { kind: 'decimal', precision: 19, scale: 2 }, readExpression: `${quote(col.name)}::numeric` };
  // text, varchar, char, uuid, enums, timetz, interval (ISO 8601), inet, cidr, macaddr,
  // bit, xml, ranges, geometric types...: PostgreSQL's own text form.
  return { type: { kind: 'string' } };
}

/** Type OIDs whose text form differs from the logical value form. */
export const PG_OID = { bool: 16, bytea: 17, timestamptz: 1184 } as const;

/**
 * Text of the server (in the session's fixed formats, connection.ts) to the value forms of
 * sources/logical-types.ts; every other type's text passes as it is. PostgreSQL reports a
 * domain column with its base type's OID, so domains are covered too.
 */
const VALUE_PARSERS: Record<number, (text: string) => string | Buffer> = {
  [PG_OID.bool]: (t) => (t === 't' ? 'true' : 'false'),
  // bytea_output = hex: '\x0a1b...'
  [PG_OID.bytea]: (t) => Buffer.from(t.slice(2), 'hex'),
  // The session's zone is UTC: drop the "+00" the server writes.
  [PG_OID.timestamptz]: (t) => (t.endsWith('+00') ? t.slice(0, -3) : t),
};

const asIs = (text: string) => text;

/** pg's type parser hook: no JS number, no Date, no zone conversion. */
export const valueForms = { getTypeParser: (oid: number) => VALUE_PARSERS[oid] ?? asIs };
