/**
 * BigQuery's rules for names, pure so that the config checks may use them too.
 * Column names: letters, digits and underscores, not starting with a digit, no reserved prefix.
 * Table names: Unicode letters, marks, numbers, connectors, dashes and spaces.
 */
const BIGQUERY_COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,299}$/;
const RESERVED_COLUMN_PREFIX = /^(_table_|_file_|_partition|_row_timestamp|__root__|_colidentifier)/i;
const BIGQUERY_TABLE = /^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd} ]{1,1024}$/u;

export function isValidBigQueryColumnName(name: string): boolean {
  return BIGQUERY_COLUMN.test(name) && !RESERVED_COLUMN_PREFIX.test(name);
}

export function isValidBigQueryTableName(name: string): boolean {
  return BIGQUERY_TABLE.test(name);
}

/**
 * A BigQuery path (`project.dataset.table`) or column in backticks. Table names may hold
 * Unicode letters, marks, numbers, connectors, dashes and spaces (isValidBigQueryTableName);
 * nothing that could end the quoting (a backtick or a backslash) ever gets through.
 */
export function quoteBigQuery(name: string): string {
  if (!/^[\p{L}\p{M}\p{N}\p{Pc}\p{Pd} .]+$/u.test(name)) throw new Error(`"${name}" cannot be used as a BigQuery identifier`);
  return '`' + name + '`';
}
