import type { BigQuery, TableField } from '@google-cloud/bigquery';
import { quoteBigQuery } from './names';
import type { DestinationField, SchemaPlan } from './schema-drift';

/** Partitioning and clustering, as the BigQuery API spells them. */
export interface TableLayout {
  timePartitioning?: { type: string; field: string };
  rangePartitioning?: { field: string; range: { start: string; end: string; interval: string } };
  clustering?: { fields: string[] };
}

export interface DestinationTable {
  fields: DestinationField[];
  description?: string;
  labels?: Record<string, string>;
}

/** The destination table's schema and description, or undefined when it does not exist yet. */
export async function destinationTable(bq: BigQuery, dataset: string, table: string): Promise<DestinationTable | undefined> {
  try {
    // One call, not exists() and then getMetadata(): this runs for every table of every run.
    const [meta] = await bq.dataset(dataset).table(table).getMetadata();
    return { fields: (meta.schema?.fields ?? []) as DestinationField[], description: meta.description ?? undefined, labels: meta.labels ?? undefined };
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Sets the table's description (from the source table's comment) when it differs. */
export async function describeTable(bq: BigQuery, dataset: string, table: string, description: string, current?: string): Promise<void> {
  if (description !== current) await bq.dataset(dataset).table(table).setMetadata({ description });
}

/** Sets labels on the table, keeping its other labels. */
export async function labelTable(bq: BigQuery, dataset: string, table: string, labels: Record<string, string>): Promise<void> {
  await bq.dataset(dataset).table(table).setMetadata({ labels });
}

/**
 * Puts the description and the column descriptions back on a table that a query rewrote
 * (CREATE OR REPLACE ... AS SELECT takes the schema of what it selects, without them).
 */
export async function restoreDescriptions(
  bq: BigQuery,
  dataset: string,
  table: string,
  description: string | undefined,
  fields: DestinationField[],
): Promise<void> {
  await bq.dataset(dataset).table(table).setMetadata({ description, schema: { fields } });
}

/**
 * Makes the destination follow the source's schema before rows that have the new shape are
 * merged into it: new columns are added, types BigQuery can widen in place are widened.
 */
export async function followSchema(bq: BigQuery, dataset: string, table: string, plan: SchemaPlan): Promise<void> {
  if (plan.changes.added.length > 0) await bq.dataset(dataset).table(table).setMetadata({ schema: { fields: plan.fields } });
  for (const w of plan.changes.widened) {
    const path = quoteBigQuery(`${bq.projectId}.${dataset}.${table}`);
    await bq.query({ query: `ALTER TABLE ${path} ALTER COLUMN ${quoteBigQuery(w.column)} SET DATA TYPE ${w.to}` });
  }
}

/** The highest cursor value already loaded, as text, or undefined for an empty table. */
export async function maxCursor(bq: BigQuery, table: string, column: string): Promise<string | undefined> {
  const [rows] = await bq.query({ query: `SELECT MAX(${quoteBigQuery(column)}) AS m FROM ${quoteBigQuery(table)}`, wrapIntegers: true });
  const m = rows[0]?.m as { value?: unknown } | string | number | null | undefined;
  if (m === null || m === undefined) return undefined;
  return typeof m === 'object' && 'value' in m ? String(m.value) : String(m);
}

/**
 * Creates an empty table that BigQuery deletes by itself after `expiresInMs`: a staging
 * table that nothing drops (a worker killed, a drop that failed) does not stay for good.
 * One that exists already (a request sent twice) is left as it is.
 */
export async function createExpiringTable(bq: BigQuery, dataset: string, table: string, fields: TableField[], expiresInMs: number): Promise<void> {
  try {
    await bq.dataset(dataset).createTable(table, { schema: { fields }, expirationTime: String(Date.now() + expiresInMs) });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
}

/** Whether the table exists. */
export async function tableExists(bq: BigQuery, dataset: string, table: string): Promise<boolean> {
  const [exists] = await bq.dataset(dataset).table(table).exists();
  return exists;
}

export async function dropTable(bq: BigQuery, dataset: string, table: string): Promise<void> {
  await bq.dataset(dataset).table(table).delete({ ignoreNotFound: true });
}

export async function countRows(bq: BigQuery, project: string, dataset: string, table: string): Promise<number> {
  const [rows] = await bq.query({ query: `SELECT COUNT(*) AS n FROM ${quoteBigQuery(`${project}.${dataset}.${table}`)}` });
  return Number(rows[0].n);
}
