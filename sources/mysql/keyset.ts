import type { KeysetRange, KeyValue } from '../driver';
import type { SourceColumn } from '../logical-types';
import { quoteMysql } from './errors';

/**
 * Key ranges over any key whose order the server can compare exactly: `ORDER BY` the key
 * and `(a, b) >= (?, ?)` written out as `a > ? OR (a = ? AND b >= ?)` agree, since both
 * compare in each column's own collation (case-insensitive, PAD SPACE alike), so every row
 * falls in exactly one range. Both MariaDB and MySQL turn the expanded form into index ranges.
 */

/**
 * Key columns that cannot be ranged over: ENUM and SET sort by their index but compare as
 * text, floats' text is not always their value, BIT and spatial values have no text order.
 */
const UNRANGEABLE = /^(enum|set|float|double|real|bit|json|geometry|point|linestring|polygon|multi|geomcollection|geometrycollection)\b/i;

export function canRangeOver(key: SourceColumn[]): boolean {
  return key.length > 0 && key.every((c) => !UNRANGEABLE.test(c.columnType ?? '') && c.type.kind !== 'float' && c.type.kind !== 'json');
}

/**
 * A parameter compared with a column: numbers as an exact DECIMAL (MySQL documents a string
 * compared with a number as compared in doubles; MariaDB converts it exactly, and the CAST
 * keeps the index range on both), bytes as bytes, everything else as the server's text,
 * which the column's own type and collation compare with.
 */
function placeholder(column: SourceColumn): string {
  return column.type.kind === 'integer' || column.type.kind === 'decimal' ? 'CAST(? AS DECIMAL(65,30))' : '?';
}

/**
 * `key >= lower` (`op` '>=') or `key < upper` (`op` '<') for a tuple, expanded:
 * `a > ? OR (a = ? AND b > ?) OR (a = ? AND b = ? AND c >= ?)`, parameters in text order.
 */
export function tupleComparison(columns: SourceColumn[], values: KeyValue[], op: '>=' | '<'): { sql: string; params: KeyValue[] } {
  if (values.length !== columns.length) throw new Error(`a key bound has ${values.length} values for ${columns.length} key columns`);
  const strict = op === '>=' ? '>' : '<';
  const terms: string[] = [];
  const params: KeyValue[] = [];
  for (let i = 0; i < columns.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) {
      parts.push(`${quoteMysql(columns[j].name)} = ${placeholder(columns[j])}`);
      params.push(values[j]);
    }
    const last = i === columns.length - 1 ? op : strict;
    parts.push(`${quoteMysql(columns[i].name)} ${last} ${placeholder(columns[i])}`);
    params.push(values[i]);
    terms.push(parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`);
  }
  return { sql: terms.length === 1 ? terms[0] : `(${terms.join(' OR ')})`, params };
}

/** The WHERE terms of a key range: `key >= lower AND key < upper`, each side only when given. */
export function keysetClause(range: KeysetRange): { sql: string; params: KeyValue[] } {
  const parts: string[] = [];
  const params: KeyValue[] = [];
  for (const [values, op] of [[range.lower, '>='], [range.upper, '<']] as const) {
    if (!values) continue;
    const c = tupleComparison(range.columns, values, op);
    parts.push(c.sql);
    params.push(...c.params);
  }
  return { sql: parts.join(' AND '), params };
}

/** `ORDER BY` of the key, and its columns as read for boundaries. */
export function keyOrderQuery(qualifiedTable: string, key: SourceColumn[]): string {
  const cols = key.map((c) => quoteMysql(c.name)).join(', ');
  return `SELECT ${cols} FROM ${qualifiedTable} ORDER BY ${cols}`;
}
