import { createHash, createHmac } from 'node:crypto';
import type { TableTask } from '../../common/payloads';
import { DestinationTable, labelTable } from '../../bigquery/tables';
import { HASH_KEY_VARIABLE } from './column-rules';
import type { TableSync } from './sync-context';

/**
 * The destination remembers the column rules it was loaded with, as a table label: a
 * fingerprint of the exclude, hash and mask lists (and of the hash key, so that a new key
 * is a change too). A table whose label differs from the rules now is rebuilt from every
 * source row, because a MERGE touches only the rows it reads: an `exclude`, `hash` or
 * `mask` added later would leave the other rows' clear values in place.
 */
export const RULES_LABEL = 'bqsync_column_rules';

/** No rules at all; also what a table loaded before labels existed is taken to hold. */
const NO_RULES = 'none';

export function rulesFingerprint(task: Pick<TableTask, 'columns'>): string {
  const rules = task.columns ?? { exclude: [], hash: [], mask: [] };
  if (rules.exclude.length + rules.hash.length + rules.mask.length === 0) return NO_RULES;
  const sorted = { exclude: [...rules.exclude].sort(), hash: [...rules.hash].sort(), mask: [...rules.mask].sort() };
  // Never the key itself: a keyed hash of a constant says whether it changed, nothing more.
  const key = rules.hash.length > 0 ? createHmac('sha256', process.env[HASH_KEY_VARIABLE] ?? '').update('bqsync column rules').digest('hex') : '';
  return createHash('sha256').update(JSON.stringify(sorted)).update(key).digest('hex').slice(0, 32);
}

/** True when the destination holds rows loaded under other column rules than the task's. */
export function columnRulesChanged(task: Pick<TableTask, 'columns'>, destination: DestinationTable | undefined): boolean {
  if (!destination) return false;
  return (destination.labels?.[RULES_LABEL] ?? NO_RULES) !== rulesFingerprint(task);
}

/** After a load: the destination's label says which rules its rows were loaded with. */
export async function recordColumnRules(sync: TableSync, destination: DestinationTable | undefined): Promise<void> {
  const fingerprint = rulesFingerprint(sync.task);
  if (destination?.labels?.[RULES_LABEL] === fingerprint) return;
  if (!destination && fingerprint === NO_RULES) return;
  await labelTable(sync.bq, sync.task.dataset, sync.task.destination, { [RULES_LABEL]: fingerprint });
}
