import type { TableSettings } from './schema';

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
    // A cursor or key that is missing or masked cannot find rows again; a hashed key can
    // (the hash is deterministic), a hashed cursor cannot (its order is lost).
    const uses: [string, string | undefined, string[]][] = [
      ['cursor', settings.cursor, ['exclude', 'hash', 'mask']],
      ['deleteWhen', settings.deleteWhen, ['exclude', 'hash', 'mask']],
      ...(settings.key ?? []).map((k): [string, string, string[]] => ['key', k, ['exclude', 'mask']]),
    ];
    for (const [what, column, forbidden] of uses) {
      const rule = column ? seen.get(column) : undefined;
      if (rule && forbidden.includes(rule)) problems.push(`${what} column "${column}" cannot be under columns.${rule}`);
    }
  }
  return problems;
}
