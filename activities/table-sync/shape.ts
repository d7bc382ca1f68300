import type { TableTask } from '../../common/payloads';
import type { TableLayout } from '../../bigquery/tables';
import { applyColumnRules, transformer } from './column-rules';
import { CURSOR_TYPES } from './cursor';
import { configFailure, failure, schemaFailure } from '../../common/failures';
import { keyRuleReason } from '../../config/table-settings';
import type { SourceConnection } from '../../sources/driver';
import { isValidBigQueryColumnName } from '../../bigquery/names';
import { bigQueryColumn, ColumnMapping } from '../../bigquery/types';
import type { SourceColumn } from '../../sources/logical-types';

/** What a table looks like on its way to BigQuery: its columns, keys and layout. */
export interface TableShape {
  mappings: ColumnMapping[];
  /** Row identity for append/merge. */
  key: string[];
  cursor?: ColumnMapping;
  deleteWhen?: ColumnMapping;
  layout: TableLayout;
  description?: string;
}

/**
 * Reads the table's columns at the source and checks every column the table's settings
 * name, so that a wrong name fails before any row is read, with a message that says which.
 */
export async function describeShape(reader: SourceConnection, task: TableTask, file: string): Promise<TableShape> {
  const columns = await reader.describeTable(task.table);
  if (columns.length === 0) throw failure('SourceTableMissing', missingTableMessage(task, file));
  const mappings = mapColumns(task, columns, file);
  checkColumnNames(task, mappings, file);
  const column = columnByName(task, mappings, file);
  const shape: TableShape = { mappings, key: [], layout: {} };
  if (task.mode !== 'replace') Object.assign(shape, await incrementalColumns(reader, task, column, file));
  shape.layout = layoutOf(task, column, file);
  shape.description = (await reader.tableComment(task.table)) ?? task.description;
  return shape;
}

/** The columns to read, after the column rules, with their BigQuery types. */
function mapColumns(task: TableTask, columns: SourceColumn[], file: string): ColumnMapping[] {
  const ruled = applyColumnRules(task, columns, file);
  return ruled.columns.map((c) => {
    const mapped = bigQueryColumn(c);
    const kind = ruled.transforms.get(c.name);
    // A hashed or masked value is text, whatever the column was.
    return kind ? { ...mapped, bigQueryType: 'STRING', encoding: 'string', transform: transformer(kind, task.key) } : mapped;
  });
}

function checkColumnNames(task: TableTask, mappings: ColumnMapping[], file: string): void {
  const invalid = mappings.filter((m) => !isValidBigQueryColumnName(m.bigQueryName)).map((m) => JSON.stringify(m.source.name));
  if (invalid.length === 0) return;
  const [column, names, it] = invalid.length > 1 ? ['columns', 'BigQuery column names', 'them'] : ['column', 'a BigQuery column name', 'it'];
  // JSON quoting shows a name with quotes, backticks or spaces exactly as it must be written.
  throw schemaFailure(
    `${task.key}: ${column} ${invalid.join(', ')} cannot be ${names} ` +
      `(letters, digits and underscores, not starting with a digit); rename ${it} at the source, ` +
      `or exclude ${it} for this table in ${file}: columns: { exclude: [${invalid.join(', ')}] }`,
  );
}

/** Finds a column a setting names (in the role it plays there), or fails saying which columns there are. */
type ColumnByName = (name: string, role: string) => ColumnMapping;

function columnByName(task: TableTask, mappings: ColumnMapping[], file: string): ColumnByName {
  const byName = new Map(mappings.map((m) => [m.bigQueryName, m]));
  return (name, role) => {
    const m = byName.get(name);
    if (m) return m;
    throw configFailure(
      `${task.key}: the ${role} column "${name}" is not a column of the table (or is excluded); ` +
        `columns: ${mappings.map((x) => x.bigQueryName).join(', ')}. Fix it in ${file}`,
    );
  };
}

/** append and merge: the key that identifies a row, the cursor, and the column that marks deletes. */
async function incrementalColumns(reader: SourceConnection, task: TableTask, column: ColumnByName, file: string): Promise<Pick<TableShape, 'key' | 'cursor' | 'deleteWhen'>> {
  const key = task.keyColumns ?? (await reader.primaryKey(task.table));
  if (key.length === 0) {
    throw configFailure(
      `${task.key}: mode ${task.mode} needs columns that identify a row, and the table has no primary key; ` +
        `set key: [column, ...] for the table in ${file}`,
    );
  }
  refuseRuledKey(task, key, file);
  key.forEach((k) => column(k, 'key'));
  const cursor = column(task.cursor!, 'cursor');
  if (!CURSOR_TYPES.includes(cursor.bigQueryType)) {
    throw configFailure(
      `${task.key}: the cursor column "${task.cursor}" is ${cursor.source.columnType} (BigQuery ${cursor.bigQueryType}); ` +
        `a cursor must be an integer, date, datetime or timestamp column. Pick another in ${file}`,
    );
  }
  return { key, cursor, ...(task.deleteWhen && { deleteWhen: column(task.deleteWhen, 'deleteWhen') }) };
}

/** The key of an append or merge table (the primary key, when not declared) in clear. */
function refuseRuledKey(task: TableTask, key: string[], file: string): void {
  for (const rule of ['hash', 'mask'] as const) {
    const ruled = key.find((k) => task.columns?.[rule].includes(k));
    if (ruled === undefined) continue;
    throw configFailure(
      `${task.key}: key column "${ruled}" cannot be ${rule === 'hash' ? 'hashed' : 'masked'} in mode ${task.mode}: ${keyRuleReason(rule)}. ` +
        `Fix the columns: entry for the table in ${file}`,
    );
  }
}

/** Partitioning and clustering, checked against the columns' types. */
function layoutOf(task: TableTask, column: ColumnByName, file: string): TableLayout {
  const layout: TableLayout = {};
  if (task.partitionBy) {
    const p = column(task.partitionBy.column, 'partitionBy');
    if (task.partitionBy.range) layout.rangePartitioning = rangePartitioning(task, p, task.partitionBy.range, file);
    else layout.timePartitioning = timePartitioning(task, p, task.partitionBy.granularity, file);
  }
  if (task.clusterBy) layout.clustering = { fields: task.clusterBy.map((c) => column(c, 'clusterBy').bigQueryName) };
  return layout;
}

function rangePartitioning(
  task: TableTask,
  p: ColumnMapping,
  r: { start: number; end: number; interval: number },
  file: string,
): TableLayout['rangePartitioning'] {
  if (p.bigQueryType !== 'INT64') {
    throw configFailure(`${task.key}: range partitioning needs an integer column; "${p.bigQueryName}" is ${p.bigQueryType}. Fix partitionBy in ${file}`);
  }
  return { field: p.bigQueryName, range: { start: String(r.start), end: String(r.end), interval: String(r.interval) } };
}

function timePartitioning(task: TableTask, p: ColumnMapping, granularity: string | undefined, file: string): TableLayout['timePartitioning'] {
  if (!['DATE', 'DATETIME', 'TIMESTAMP'].includes(p.bigQueryType)) {
    throw configFailure(
      `${task.key}: time partitioning needs a DATE, DATETIME or TIMESTAMP column; "${p.bigQueryName}" is ${p.bigQueryType}. ` +
        `Fix partitionBy in ${file} (or give range: for an integer column)`,
    );
  }
  return { type: granularity ?? 'DAY', field: p.bigQueryName };
}

/**
 * A table that is not at the source (any more). Nothing was written: the BigQuery table
 * keeps its earlier rows, which the operator should know before deciding what to do.
 */
export function missingTableMessage(task: Pick<TableTask, 'key' | 'source' | 'dataset' | 'destination' | 'discovered'>, file: string): string {
  const kept = `${task.dataset}.${task.destination} in BigQuery was left as it was`;
  return task.discovered
    ? `${task.key}: the table was discovered when the run was planned and is gone from the source now (dropped or renamed); ` +
        `${kept}. The next run will not list it; if it was renamed, sync the new name with: bqsync sync ${task.source}.<new name>`
    : `${task.key}: the table does not exist at the source (dropped or renamed since it was listed?); ${kept}. ` +
        `Remove it from sources.${task.source}.tables in ${file}, or restore it at the source`;
}
