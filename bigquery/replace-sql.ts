import type { TableLayout } from './tables';
import { quoteBigQuery } from './names';

/**
 * One statement that replaces the destination with the staging table's rows, keeping the
 * table's partitioning and clustering: atomic, like a WRITE_TRUNCATE load.
 * `partitionType` is the BigQuery type of the time-partitioning column.
 */
export function buildReplaceSql(target: string, staging: string, layout: TableLayout, partitionType?: string): string {
  const clauses: string[] = [];
  if (layout.timePartitioning) {
    const { field, type: unit } = layout.timePartitioning;
    const c = quoteBigQuery(field);
    if (partitionType === 'DATE') clauses.push(unit === 'DAY' ? `PARTITION BY ${c}` : `PARTITION BY DATE_TRUNC(${c}, ${unit})`);
    else if (partitionType === 'DATETIME') clauses.push(`PARTITION BY DATETIME_TRUNC(${c}, ${unit})`);
    else clauses.push(`PARTITION BY TIMESTAMP_TRUNC(${c}, ${unit})`);
  } else if (layout.rangePartitioning) {
    const { field, range } = layout.rangePartitioning;
    const n = (v: string) => String(BigInt(v)); // integers only, from the validated config
    clauses.push(`PARTITION BY RANGE_BUCKET(${quoteBigQuery(field)}, GENERATE_ARRAY(${n(range.start)}, ${n(range.end)}, ${n(range.interval)}))`);
  }
  if (layout.clustering) clauses.push(`CLUSTER BY ${layout.clustering.fields.map(quoteBigQuery).join(', ')}`);
  return [`CREATE OR REPLACE TABLE ${quoteBigQuery(target)}`, ...clauses, `AS SELECT * FROM ${quoteBigQuery(staging)}`].join('\n');
}
