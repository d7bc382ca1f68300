import { createHmac } from 'node:crypto';
import type { TableTask } from '../../common/payloads';
import { configFailure } from '../../common/failures';
import type { SourceColumn } from '../../sources/logical-types';

export type ColumnTransform = 'hash' | 'mask';

/** The environment variable that holds the key of hashed columns. */
export const HASH_KEY_VARIABLE = 'BQSYNC_HASH_KEY';

/**
 * Applies a table's column rules: excluded columns are not read at all; hashed and masked
 * ones are transformed on this worker, so their values never leave it. A rule that names a
 * column the table does not have is an error: a typo must not let personal data through.
 */
export function applyColumnRules(
  task: TableTask,
  columns: SourceColumn[],
  file: string,
): { columns: SourceColumn[]; transforms: Map<string, ColumnTransform> } {
  const rules = task.columns ?? { exclude: [], hash: [], mask: [] };
  const names = new Set(columns.map((c) => c.name));
  const unknown = [...rules.exclude, ...rules.hash, ...rules.mask].filter((c) => !names.has(c));
  if (unknown.length > 0) {
    throw configFailure(
      `${task.key}: the column rules name ${unknown.map((c) => `"${c}"`).join(', ')}, which the table does not have ` +
        `(columns: ${[...names].join(', ')}); fix the columns: entry for the table in ${file}`,
    );
  }
  const transforms = new Map<string, ColumnTransform>([
    ...rules.hash.map((c): [string, ColumnTransform] => [c, 'hash']),
    ...rules.mask.map((c): [string, ColumnTransform] => [c, 'mask']),
  ]);
  if (rules.hash.length > 0) hashKey(task.key);
  const excluded = new Set(rules.exclude);
  return { columns: columns.filter((c) => !excluded.has(c.name)), transforms };
}

function hashKey(tableKey: string): string {
  const key = process.env[HASH_KEY_VARIABLE];
  if (!key || key.length < 16) {
    throw configFailure(
      `${tableKey}: hashed columns need a secret key of at least 16 characters in the environment variable ` +
        `${HASH_KEY_VARIABLE} of the worker; set it (the same key everywhere, so hashes stay joinable)`,
    );
  }
  return key;
}

/** A function from a raw value to the text that is loaded instead. */
export function transformer(kind: ColumnTransform, tableKey: string): (value: string | Buffer) => string {
  if (kind === 'mask') {
    return (value) => {
      const text = typeof value === 'string' ? value : value.toString('utf8');
      const chars = [...text]; // code points, so an emoji is one character
      const keep = chars.length > 4 ? 4 : 0;
      return '*'.repeat(chars.length - keep) + chars.slice(chars.length - keep).join('');
    };
  }
  const key = hashKey(tableKey);
  return (value) => createHmac('sha256', key).update(value).digest('hex');
}
