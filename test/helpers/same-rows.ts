/**
 * The check every fault test ends with: the destination table holds exactly the source's
 * rows, compared row by row and value by value (ordered by the key). On a difference it
 * says which keys are missing or doubled and shows the first row that differs, instead
 * of a diff of thousands of rows.
 */
import { BIGQUERY_PROJECT } from './env';
import { bqRows, mysqlConnection, postgresClient } from './harness';
import { normalize } from './compare';

type Row = Record<string, unknown>;

export interface SameRowsOptions {
  /** Column that orders and identifies rows; `id` unless told. */
  key?: string;
  /** A condition on the source rows, in the source's SQL. */
  where?: string;
  /** The BigQuery table's name, when it is not the source table's. */
  destination?: string;
}

export async function expectSameRows(source: Row[], dataset: string, table: string, columns: string[], key = 'id'): Promise<number> {
  const destination = await bqRows(`SELECT ${columns.join(', ')} FROM \`${BIGQUERY_PROJECT}.${dataset}.${table}\` ORDER BY ${key}`);
  const problem = rowDifference(source, destination, columns, key);
  if (problem) throw new Error(`${dataset}.${table} differs from its source: ${problem}`);
  return destination.length;
}

/** MariaDB table `table` against its BigQuery copy; returns the number of rows. */
export async function expectSameRowsAsMysql(table: string, dataset: string, columns: string[], options: SameRowsOptions = {}): Promise<number> {
  const key = options.key ?? 'id';
  const my = await mysqlConnection();
  try {
    const [rows] = await my.query(`SELECT ${columns.join(', ')} FROM ${table} WHERE ${options.where ?? 'TRUE'} ORDER BY ${key}`);
    return await expectSameRows(rows as Row[], dataset, options.destination ?? table, columns, key);
  } finally {
    await my.end();
  }
}

/** PostgreSQL table `table` (values as the server's text) against its BigQuery copy. */
export async function expectSameRowsAsPostgres(table: string, dataset: string, columns: string[], options: SameRowsOptions = {}): Promise<number> {
  const key = options.key ?? 'id';
  const pg = await postgresClient();
  try {
    const res = await pg.query({
      text: `SELECT ${columns.join(', ')} FROM ${table} WHERE ${options.where ?? 'TRUE'} ORDER BY ${key}`,
      types: { getTypeParser: () => (v: string) => v },
    });
    return await expectSameRows(res.rows, dataset, options.destination ?? table, columns, key);
  } finally {
    await pg.end();
  }
}

/** Why two row lists differ, or undefined when they hold the same rows in the same order. */
export function rowDifference(source: Row[], destination: Row[], columns: string[], key: string): string | undefined {
  const keyOf = (r: Row) => String(normalize(r[key]));
  const counts = (rows: Row[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(keyOf(r), (m.get(keyOf(r)) ?? 0) + 1);
    return m;
  };
  const src = counts(source);
  const dst = counts(destination);
  const missing = [...src.keys()].filter((k) => !dst.has(k));
  const extra = [...dst.keys()].filter((k) => !src.has(k));
  const doubled = [...dst.entries()].filter(([k, n]) => n > (src.get(k) ?? 0) && src.has(k)).map(([k]) => k);
  const sample = (ks: string[]) => `${ks.length} (${ks.slice(0, 5).join(', ')}${ks.length > 5 ? ', …' : ''})`;
  const parts: string[] = [];
  if (source.length !== destination.length) parts.push(`${source.length} rows at the source, ${destination.length} in BigQuery`);
  if (missing.length) parts.push(`missing ${key}s: ${sample(missing)}`);
  if (doubled.length) parts.push(`doubled ${key}s: ${sample(doubled)}`);
  if (extra.length) parts.push(`${key}s not at the source: ${sample(extra)}`);
  if (parts.length) return parts.join('; ');
  for (let i = 0; i < source.length; i++) {
    const a = columns.map((c) => normalize(source[i][c]));
    const b = columns.map((c) => normalize(destination[i][c]));
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      return `row ${key}=${keyOf(source[i])} holds ${JSON.stringify(b)} instead of ${JSON.stringify(a)} (columns ${columns.join(', ')})`;
    }
  }
  return undefined;
}
