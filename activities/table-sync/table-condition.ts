import type { TableTask } from '../../common/payloads';
import { configFailure } from '../../common/failures';
import { sessionValues, sourceParamValue, whereCondition } from '../../common/session-time';
import type { RowFilter } from '../../sources/driver';

/**
 * The table's `where:` added to a read's filter: the condition's text is the operator's
 * SQL from the config, its session values (`{{session_date}}`, ...) query parameters.
 */
export function withTableCondition(filter: RowFilter | undefined, task: TableTask, file: string): RowFilter | undefined {
  if (!task.where) return filter;
  let condition;
  try {
    const { sql, names } = whereCondition(task.where);
    if (names.length > 0 && !task.sessionTime) throw new Error('the run gave no session time to this table sync; re-run it from its pipeline');
    const session = names.length > 0 ? sessionValues(task.sessionTime!, task.timeZone ?? 'UTC', task.cadence) : undefined;
    condition = { sql, values: names.map((n) => sourceParamValue(n, session!)) };
  } catch (err) {
    throw configFailure(`${task.key}: where: ${(err as Error).message} (${file})`);
  }
  return { ...filter, condition };
}
