import type { TableSettings } from './schema';
import { whereCondition } from '../common/session-time';

/**
 * Checks the settings of one table after source defaults and the table's own entry are
 * merged: what the schema alone cannot say because it depends on the combination.
 * Returns problems as text; the caller adds where they came from.
 */
export function tableSettingsProblems(settings: TableSettings): string[] {
  const problems: string[] = [];
  const mode = settings.mode ?? 'replace';
  if (mode !== 'replace' && !settings.cursor) {
    problems.push(`mode ${mode} needs a cursor: column (an integer, date or time that grows with each ${mode === 'append' ? 'insert' : 'change'})`);
  }
  if (mode === 'replace' && (settings.cursor || settings.overlap !== undefined)) {
    problems.push('cursor: and overlap: apply only to mode append or merge');
  }
  if (settings.deleteWhen && mode !== 'merge') problems.push('deleteWhen: applies only to mode merge');
  if (settings.where) {
    try {
      whereCondition(settings.where);
    } catch (err) {
      problems.push(`where: ${(err as Error).message}`);
    }
  }
  const rules = settings.columns;
  if (rules) {
    const seen = new Map<string, string>();
    for (const rule of ['exclude', 'hash', 'mask'] as const) {
      for (const column of rules[rule]) {
        const other = seen.get(column);
        if (other) problems.push(`column "${column}" is listed under both columns.${other} and columns.${rule}`);
        seen.set(column, rule);
      }
    }
    // A cursor or key that is missing, masked or hashed cannot find rows again (keyRuleReason).
    const uses: [string, string | undefined][] = [
      ['cursor', settings.cursor],
      ['deleteWhen', settings.deleteWhen],
      ...(settings.key ?? []).map((k): [string, string] => ['key', k]),
    ];
    for (const [what, column] of uses) {
      const rule = column ? seen.get(column) : undefined;
      if (!rule) continue;
      const why = what === 'key' && rule !== 'exclude' ? `: ${keyRuleReason(rule as 'hash' | 'mask')}` : '';
      problems.push(`${what} column "${column}" cannot be under columns.${rule}${why}`);
    }
  }
  return problems;
}

/**
 * Why a key column of an append or merge table may not be hashed or masked: the MERGE finds
 * rows by their key. A hashed key changes with BQSYNC_HASH_KEY (and from clear to hashed when
 * the rule is added), so every row would be inserted again beside the old one; masked keys
 * collide, so different rows would overwrite each other.
 */
export function keyRuleReason(rule: 'hash' | 'mask'): string {
  return rule === 'hash'
    ? 'a merge finds rows by their key, and a hashed key changes with the hash key, so rows would be inserted twice instead of updated; ' +
        'hash other columns, or use mode replace'
    : 'a merge finds rows by their key, and masked keys collide, so different rows would overwrite each other; use mode replace';
}
