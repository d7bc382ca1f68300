import { ApplicationFailure } from '@temporalio/common';
import type { TableTask } from '../../common/payloads';
import type { TableLayout } from '../../bigquery/tables';
import { applyColumnRules, transformer } from './column-rules';
import { CURSOR_TYPES } from './cursor';
import { configFailure, failure, schemaFailure } from '../../common/failures';
import type { SourceReader } from '../../sources/driver';
import type { ColumnMapping } from '../../bigquery/types';
import { isValidBigQueryColumnName } from '../../bigquery/types';

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
export async function describeShape(reader: SourceReader, task: TableTask, file: string): Promise<TableShape> {
  const columns = await reader.describeTable(task.table);
  if (columns.length === 0) throw failure('SourceTableMissing', missingTableMessage(task, file));
  const ruled = applyColumnRules(task, columns, file);
  const mappings: ColumnMapping[] = ruled.columns.map((c) => {
    const mapped = { ...reader.mapColumn(c), bigQueryName: c.name };
    const kind = ruled.transforms.get(c.name);
    // A hashed or masked value is text, whatever the column was.
    return kind ? { ...mapped, bigQueryType: 'STRING', encoding: 'string', transform: transformer(kind, task.key) } : mapped;
  });
  const invalid = mappings.filter((m) => !isValidBigQueryColumnName(m.bigQueryName)).map((m) => JSON.stringify(m.source.name));
  if (invalid.length > 0) {
    const [column, names, it] = invalid.length > 1 ? ['columns', 'BigQuery column names', 'them'] : ['column', 'a BigQuery column name', 'it'];
    // JSON quoting shows a name with quotes, backticks or spaces exactly as it must be written.
    throw schemaFailure(
      `${task.key}: ${column} ${invalid.join(', ')} cannot be ${names} ` +
        `(letters, digits and underscores, not starting with a digit); rename ${it} at the source, ` +
        `or exclude ${it} for this table in ${file}: columns: { exclude: [${invalid.join(', ')}] }`,
    );
  }
  const byName = new Map(mappings.map((m) => [m.bigQueryName, m]));
  const column = (name: string, role: string): ColumnMapping => {
    const m = byName.get(name);
    if (!m) {
      throw configFailure(
        `${task.key}: the ${role} column "${name}" is not a column of the table (or is excluded); ` +
          `columns: ${mappings.map((x) => x.bigQueryName).join(', ')}. Fix it in ${file}`,
      );
    }
    return m;
  };

  const shape: TableShape = { mappings, key: [], layout: {} };
  if (task.mode !== 'replace') {
    shape.key = task.keyColumns ?? (await reader.primaryKey(task.table));
    if (shape.key.length === 0) {
      throw configFailure(
        `${task.key}: mode ${task.mode} needs columns that identify a row, and the table has no primary key; ` +
          `set key: [column, ...] for the table in ${file}`,
      );
    }
    shape.key.forEach((k) => column(k, 'key'));
    shape.cursor = column(task.cursor!, 'cursor');
    if (!CURSOR_TYPES.includes(shape.cursor.bigQueryType)) {
      throw configFailure(
        `${task.key}: the cursor column "${task.cursor}" is ${shape.cursor.source.columnType} (BigQuery ${shape.cursor.bigQueryType}); ` +
          `a cursor must be an integer, date, datetime or timestamp column. Pick another in ${file}`,
      );
    }
    if (task.deleteWhen) shape.deleteWhen = column(task.deleteWhen, 'deleteWhen');
  }

  if (task.partitionBy) {
    const p = column(task.partitionBy.column, 'partitionBy');
    if (task.partitionBy.range) {
      if (p.bigQueryType !== 'INT64') {
        throw configFailure(`${task.key}: range partitioning needs an integer column; "${p.bigQueryName}" is ${p.bigQueryType}. Fix partitionBy in ${file}`);
      }
      const r = task.partitionBy.range;
      shape.layout.rangePartitioning = {
        field: p.bigQueryName,
        range: { start: String(r.start), end: String(r.end), interval: String(r.interval) },
      };
    } else {
      if (!['DATE', 'DATETIME', 'TIMESTAMP'].includes(p.bigQueryType)) {
        throw configFailure(
          `${task.key}: time partitioning needs a DATE, DATETIME or TIMESTAMP column; "${p.bigQueryName}" is ${p.bigQueryType}. ` +
            `Fix partitionBy in ${file} (or give range: for an integer column)`,
        );
      }
      shape.layout.timePartitioning = { type: task.partitionBy.granularity ?? 'DAY', field: p.bigQueryName };
    }
  }
  if (task.clusterBy) {
    shape.layout.clustering = { fields: task.clusterBy.map((c) => column(c, 'clusterBy').bigQueryName) };
  }
  shape.description = (await reader.tableComment(task.table)) ?? task.description;
  return shape;
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
