import type { SchemaChanges } from '../common/payloads';

export interface DestinationField {
  name: string;
  type: string;
  mode?: string;
  description?: string;
}

/**
 * Type changes BigQuery can make in place without losing values (the coercions of
 * ALTER COLUMN SET DATA TYPE). Anything else would break the readers of the table.
 */
const WIDENINGS: Record<string, string[]> = {
  INT64: ['NUMERIC', 'BIGNUMERIC', 'FLOAT64'],
  NUMERIC: ['BIGNUMERIC', 'FLOAT64'],
};

const canonical = (type: string) => ({ INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL' })[type] ?? type;

export interface SchemaPlan {
  /** The schema to load with: the source's columns, then columns only the destination still has. */
  fields: DestinationField[];
  changes: SchemaChanges;
  /** Type changes that cannot be made in place, as messages naming the column and types. */
  incompatible: string[];
}

/**
 * Compares the destination's schema with what the source has now. A new column is added;
 * a dropped column is kept (NULL from now on), so that queries reading it do not break;
 * a type that BigQuery can widen is widened; any other type change is refused. A full
 * refresh takes the source's schema as it is.
 */
export function planSchema(existing: DestinationField[] | undefined, next: DestinationField[], fullRefresh: boolean): SchemaPlan {
  const changes: SchemaChanges = { added: [], dropped: [], widened: [] };
  if (!existing || fullRefresh) return { fields: next, changes, incompatible: [] };
  const before = new Map(existing.map((f) => [f.name.toLowerCase(), f]));
  const incompatible: string[] = [];
  for (const field of next) {
    const old = before.get(field.name.toLowerCase());
    if (!old) {
      changes.added.push(field.name);
      continue;
    }
    const from = canonical(old.type);
    const to = canonical(field.type);
    if (from === to) continue;
    if (WIDENINGS[from]?.includes(to)) changes.widened.push({ column: field.name, from, to });
    else incompatible.push(`column ${field.name} changed from ${from} to ${to}`);
  }
  const nextNames = new Set(next.map((f) => f.name.toLowerCase()));
  const kept = existing.filter((f) => !nextNames.has(f.name.toLowerCase()));
  changes.dropped = kept.map((f) => f.name);
  const fields = [...next, ...kept.map((f) => ({ ...f, mode: 'NULLABLE' }))];
  return { fields, changes, incompatible };
}

export function hasChanges(changes: SchemaChanges): boolean {
  return changes.added.length + changes.dropped.length + changes.widened.length > 0;
}
