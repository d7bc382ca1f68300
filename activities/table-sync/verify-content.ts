import type { BigQuery } from '@google-cloud/bigquery';
import type { ContentOutcome, TableTask } from '../../common/payloads';
import { failure } from '../../common/failures';
import type { CheckedKey, ComparedColumn, ContentReport } from '../../common/content-checksum';
import { contentDiffers } from '../../common/content-checksum';
import { compareContent, describeDifferences } from '../../common/content-compare';
import { BigQueryContentSide } from '../../bigquery/content-side';
import type { ColumnMapping } from '../../bigquery/types';
import { isWholeNumber } from '../../sources/logical-types';
import type { SourceConnection } from '../../sources/driver';
import { openSource } from '../../sources/open-source';
import { createBigQuery } from '../../bigquery/client';
import type { LoadedConfig } from '../../config/load';
import { describeShape } from './shape';

/**
 * Content verification (`verify: checksum`, `bqsync verify`): what is compared of a table,
 * and the comparison itself, source against BigQuery (common/content-compare.ts). The source
 * side runs in the connection's snapshot: after a sync, the one its rows were read in.
 */

/** How each loaded column is compared; see the README's "Verifying content". */
export function comparedColumns(task: TableTask, mappings: ColumnMapping[]): ComparedColumn[] {
  const hashed = new Set(task.columns?.hash ?? []);
  const masked = new Set(task.columns?.mask ?? []);
  return mappings.filter((m) => !notComparable(m)).map((m) => ({
    name: m.bigQueryName,
    kind: m.source.type.kind,
    bigQueryType: m.bigQueryType,
    readExpression: m.source.checksumExpression ?? m.source.readExpression,
    wholeNumber: isWholeNumber(m.source.type),
    // Hashes need the worker's secret key, which no database is given.
    compareAs: hashed.has(m.source.name) ? 'nullness' : masked.has(m.source.name) ? 'mask' : 'value',
  }));
}

/**
 * Floats are left out: each engine writes a float's text its own way (MariaDB FLOAT as 6
 * digits, PostgreSQL's shortest exact text, BigQuery's 17 digits), and the emulator even
 * loads NaN as NULL; a rounding all three apply alike does not exist in their SQL.
 */
function notComparable(m: ColumnMapping): boolean {
  // Nor a column whose text the driver makes and no server can (MySQL geometry).
  return m.source.type.kind === 'float' || m.source.checksumExpression === null;
}

/** The primary key to split and name rows by; a string saying why not, when the table cannot be verified so. */
export function checkedKey(primaryKey: string[], columns: ComparedColumn[]): CheckedKey | string {
  if (primaryKey.length === 0) return 'the table has no primary key';
  const key = primaryKey.map((name) => columns.find((c) => c.name === name));
  const unusable = primaryKey.filter((_, i) => !key[i] || key[i]!.compareAs !== 'value');
  if (unusable.length > 0) return `key column ${unusable.join(', ')} is excluded, hashed, masked or a float`;
  const only = key.length === 1 ? key[0]! : undefined;
  // One whole-number column splits numerically (an index serves each range); any other key by its hash.
  const numeric = Boolean(only?.wholeNumber && ['INT64', 'NUMERIC', 'BIGNUMERIC'].includes(only.bigQueryType));
  return { columns: key as ComparedColumn[], numeric };
}

export interface VerifyTarget {
  bq: BigQuery;
  location?: string;
  dataset: string;
  table: string;
  /** The emulator, not BigQuery (its gaps: README). */
  onEmulator?: boolean;
}

/**
 * Compares the table's content at the source (in the reader's snapshot) with BigQuery's,
 * and returns what differs: keys, counts and column names only.
 */
export async function verifyTableContent(
  task: TableTask,
  mappings: ColumnMapping[],
  reader: SourceConnection,
  target: VerifyTarget,
  onProgress?: (p: { level: number; segments: number; differing: number }) => void,
): Promise<ContentReport | { skipped: string }> {
  const started = Date.now();
  // A `where:` slice is loaded, and the source side would compare the whole table with it.
  if (task.where) return { skipped: 'the table loads a where: slice and content is compared for whole tables: only the row count was compared' };
  const columns = comparedColumns(task, mappings);
  const key = checkedKey(await reader.primaryKey(task.table), columns);
  if (typeof key === 'string') return { skipped: `${key}: content is verified by key, so only the row count was compared` };
  await reader.beginSnapshot();
  const source = reader.contentSide(task.table, key, columns);
  const bigQuery = new BigQueryContentSide(target.bq, target.dataset, target.table, key, columns, target.location, target.onEmulator);
  const found = await compareContent(source, bigQuery, { split: key.numeric ? 'range' : 'hash', columns: columns.map((c) => c.name), onProgress });
  return {
    ...found,
    nullnessOnly: columns.filter((c) => c.compareAs === 'nullness').map((c) => c.name),
    notCompared: mappings.filter(notComparable).map((m) => m.bigQueryName),
    bytesScanned: bigQuery.bytesScanned,
    seconds: (Date.now() - started) / 1000,
  };
}

/** A table whose content differs fails with the keys that differ (never values), and what to do. */
export function contentMismatch(task: TableTask, report: ContentReport, file: string) {
  return failure(
    'ContentMismatch',
    `${task.key}: ${task.dataset}.${task.destination} differs from the source after the load, in ${report.rows} rows compared: ` +
      `${describeDifferences(report)}. Re-run the table with "bqsync sync ${task.key}${task.mode === 'replace' ? '' : ' --full-refresh'}", ` +
      `then "bqsync verify ${task.key}"; if it repeats, compare those keys at both ends (verify: in ${file} decides whether this check runs)`,
  );
}

export { contentDiffers };

/**
 * verify: checksum, after the load: compares the content in the snapshot the rows were read
 * in (kept open by the single read of extract.ts), so that writes since then do not count as
 * differences; key-range reads and resumed loads have no such snapshot, and use a new one.
 * Throws ContentMismatch when the content differs.
 */
export async function verifyAfterLoad(
  sync: { task: TableTask; file: string; bq: BigQuery; location: string; onEmulator?: boolean; heartbeat(p: { phase: 'verify'; rows: number; bytes: number }): void },
  mappings: ColumnMapping[],
  reader: SourceConnection,
  sameSnapshot: boolean,
): Promise<ContentOutcome> {
  const { task } = sync;
  let ranges = 0;
  const report = await verifyTableContent(task, mappings, reader, { bq: sync.bq, location: sync.location, dataset: task.dataset, table: task.destination, onEmulator: sync.onEmulator }, (p) => {
    ranges += p.segments;
    sync.heartbeat({ phase: 'verify', rows: ranges, bytes: 0 });
  });
  await reader.endSnapshot();
  if ('skipped' in report) return { rows: 0, ranges: 0, bytesScanned: 0, seconds: 0, sameSnapshot, skipped: report.skipped };
  if (contentDiffers(report)) throw contentMismatch(task, report, sync.file);
  return {
    rows: report.rows,
    ranges: report.ranges,
    bytesScanned: report.bytesScanned,
    seconds: report.seconds,
    sameSnapshot,
    ...(report.nullnessOnly.length > 0 && { nullnessOnly: report.nullnessOnly }),
    ...(report.notCompared.length > 0 && { notCompared: report.notCompared }),
  };
}

/**
 * `bqsync verify`: one table's content now, the source in a snapshot of this moment against
 * what BigQuery holds, with the columns and rules a sync would load.
 */
export async function verifyTableNow(
  loaded: LoadedConfig,
  task: TableTask,
  onProgress?: (p: { level: number; segments: number; differing: number }) => void,
): Promise<ContentReport | { skipped: string }> {
  // The server the table syncs read (a replica when `replica.useFor` names read): the same data.
  const reader = await openSource(loaded, task.source, 'read');
  try {
    const shape = await describeShape(reader, task, loaded.file);
    const { bigquery } = loaded.config;
    const target = { bq: createBigQuery(bigquery), location: bigquery.location, dataset: task.dataset, table: task.destination, onEmulator: Boolean(bigquery.endpoint) };
    return await verifyTableContent(task, shape.mappings, reader, target, onProgress);
  } finally {
    await reader.endSnapshot().catch(() => undefined);
    await reader.close();
  }
}
