import { RowEncoder } from '../../bigquery/row-encoder';
import { StagingProgress, writeStagingFile } from '../../bigquery/load-file';
import type { RowFilter, SourceConnection } from '../../sources/driver';
import type { TableShape } from './shape';
import type { TableSync } from './sync-context';
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
 * in one snapshot, encoded into a NEWLINE_DELIMITED_JSON file on this worker's disk.
 */
export async function readRowsToFile(
  sync: TableSync,
  reader: SourceConnection,
  shape: TableShape,
  filter: RowFilter | undefined,
  file: string,
  onProgress: (p: StagingProgress) => void,
): Promise<StagedRows> {
  const encoder = new RowEncoder(shape.mappings);
  const rows = reader.streamRows(sync.task.table, shape.mappings.map((m) => m.source), withTableCondition(filter, sync.task, sync.file));
  const reserve = (bytes: number) => sync.budget.reserve(file, bytes);
  let written;
  try {
    written = await writeStagingFile(rows, encoder, file, onProgress, { gzip: sync.gzip, signal: sync.signal, reserve });
  } finally {
    sync.budget.doneWriting(file);
  }
  failOnInvalidValues(sync.task, encoder, sync.file);
  return { rows: written.rows, bytes: written.bytes, nulledValues: encoder.nulledValues };
}
