import { RowEncoder } from '../../bigquery/row-encoder';
import { StagingFileOptions, StagingProgress, writeStagingFile } from '../../bigquery/load-file';
import type { ColumnMapping } from '../../bigquery/types';
import type { RowFilter, SourceConnection } from '../../sources/driver';
import { blocksInFlight, encodePool } from './encode-pool';
import type { TableShape } from './shape';
import type { TableSync } from './sync-context';
import { writeStagingFileInThreads } from './threaded-staging';
import { failOnInvalidValues } from './verify';
import { withTableCondition } from './table-condition';

/** What one staged file holds; `nulledValues`: values BigQuery cannot hold, NULL instead, per column. */
export interface StagedRows {
  rows: number;
  bytes: number;
  nulledValues: Record<string, number>;
}

/**
 * The one place rows are read from the source: the rows the filter and the table's `where:` keep,
 * in one snapshot, encoded into a NEWLINE_DELIMITED_JSON file on this worker's disk (stageRows).
 */
export async function readRowsToFile(
  sync: TableSync,
  reader: SourceConnection,
  shape: TableShape,
  filter: RowFilter | undefined,
  file: string,
  onProgress: (p: StagingProgress) => void,
): Promise<StagedRows> {
  const where = withTableCondition(filter, sync.task, sync.file);
  const options = { gzip: sync.gzip, signal: sync.signal, reserve: (bytes: number) => sync.budget.reserve(file, bytes) };
  let staged: StagedRows;
  try {
    staged = await stageRows(reader, sync.task.table, shape.mappings, where, file, onProgress, options);
  } finally {
    sync.budget.doneWriting(file);
  }
  failOnInvalidValues(sync.task, staged.nulledValues, sync.file);
  return staged;
}

/**
 * The table's rows into the staging file: on the worker's encoding threads when there are
 * some, the source hands its rows over as text and no column rule applies (a rule's
 * function stays on the main thread), unless `mainThread`; else on the main thread.
 */
export async function stageRows(
  reader: SourceConnection,
  table: string,
  mappings: ColumnMapping[],
  where: RowFilter | undefined,
  file: string,
  onProgress: (p: StagingProgress) => void,
  options: StagingFileOptions,
  mainThread = false,
): Promise<StagedRows> {
  const columns = mappings.map((m) => m.source);
  const pool = mainThread || mappings.some((m) => m.transform) ? undefined : encodePool();
  const blocks = pool && reader.streamRowText?.(table, columns, where);
  if (pool && blocks) return writeStagingFileInThreads(blocks, mappings, pool, blocksInFlight(), file, onProgress, options);
  const encoder = new RowEncoder(mappings);
  const written = await writeStagingFile(reader.streamRows(table, columns, where), encoder, file, onProgress, options);
  return { ...written, nulledValues: encoder.nulledValues };
}
