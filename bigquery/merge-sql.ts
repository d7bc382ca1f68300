import { quoteBigQuery } from './names';

export interface MergeSpec {
  /** `project.dataset.table` of the destination and of the staging table. */
  target: string;
  staging: string;
  columns: string[];
  key: string[];
  mode: 'append' | 'merge';
  /** merge: the staged row deletes the destination row when this column is set. */
  deleteWhen?: { column: string; type: string };
}

/** The condition under which a staged row means "deleted at the source". */
function deletedCondition(column: string, type: string): string {
  const c = `S.${quoteBigQuery(column)}`;
  if (type === 'BOOL') return `${c} IS TRUE`;
  if (type === 'INT64' || type === 'NUMERIC' || type === 'BIGNUMERIC' || type === 'FLOAT64') return `COALESCE(${c} != 0, FALSE)`;
  return `${c} IS NOT NULL`;
}

/**
 * One MERGE statement from the staging table into the destination: atomic, and harmless to
 * run twice, so a retry after a crash or an overlap window that re-reads rows never adds a
 * duplicate. append inserts rows whose key is new; merge also updates (and deletes) rows.
 */
export function buildMergeSql(spec: MergeSpec): string {
  const on = spec.key.map((k) => `T.${quoteBigQuery(k)} = S.${quoteBigQuery(k)}`).join(' AND ');
  const cols = spec.columns.map(quoteBigQuery);
  const insert = `INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `S.${c}`).join(', ')})`;
  const clauses: string[] = [];
  const deleted = spec.mode === 'merge' && spec.deleteWhen ? deletedCondition(spec.deleteWhen.column, spec.deleteWhen.type) : undefined;
  if (spec.mode === 'merge') {
    if (deleted) clauses.push(`WHEN MATCHED AND ${deleted} THEN DELETE`);
    const updatable = cols.filter((c) => !spec.key.map(quoteBigQuery).includes(c));
    if (updatable.length > 0) clauses.push(`WHEN MATCHED THEN UPDATE SET ${updatable.map((c) => `${c} = S.${c}`).join(', ')}`);
  }
  clauses.push(deleted ? `WHEN NOT MATCHED AND NOT (${deleted}) THEN ${insert}` : `WHEN NOT MATCHED THEN ${insert}`);
  return `MERGE ${quoteBigQuery(spec.target)} T USING ${quoteBigQuery(spec.staging)} S ON ${on}\n${clauses.join('\n')}`;
}
