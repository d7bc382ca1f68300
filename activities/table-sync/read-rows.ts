import { RowEncoder } from '../../bigquery/row-encoder';
import { StagingProgress, writeStagingFile } from '../../bigquery/load-file';
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
 * in one snapshot, encoded into a NEWLINE_DELIMITED_JSON file on this worker's disk. Encoded
 * on the worker's encoding threads when the source hands its rows over as text and no
 * column rule applies (a rule's function stays on the main thread); else on the main thread.
 */
export async function readRowsToFile(
  sync: TableSync,
  reader: SourceConnection,
  shape: TableShape,
  filter: RowFilter | undefined,
  file: string,
  onProgress: (p: StagingProgress) => void,
): Promise<StagedRows> {
  const columns = shape.mappings.map((m) => m.source);
  const where = withTableCondition(filter, sync.task, sync.file);
  const options = { gzip: sync.gzip, signal: sync.signal, reserve: (bytes: number) => sync.budget.reserve(file, bytes) };
  const pool = shape.mappings.some((m) => m.transform) ? undefined : encodePool();
  const blocks = pool && reader.streamRowText?.(sync.task.table, columns, where);
  let staged: StagedRows;
  try {
    if (pool && blocks) {
      staged = await writeStagingFileInThreads(blocks, shape.mappings, pool, blocksInFlight(), file, onProgress, options);
    } else {
      const encoder = new RowEncoder(shape.mappings);
      const written = await writeStagingFile(reader.streamRows(sync.task.table, columns, where), encoder, file, onProgress, options);
      staged = { ...written, nulledValues: encoder.nulledValues };
    }
  } finally {
    sync.budget.doneWriting(file);
  }
  failOnInvalidValues(sync.task, staged.nulledValues, sync.file);
  return staged;
}
