import { move, transferableSymbol, valueSymbol } from 'piscina';
import { RowEncoder } from '../../bigquery/row-encoder';
import type { ColumnMapping } from '../../bigquery/types';
import type { RawValue } from '../../sources/logical-types';
import type { RowTextFormat } from '../../sources/row-text';
import { rowTextDecoder } from '../../sources/row-text-decoders';

/** One block of a table's row text, to be made NDJSON by an encoding thread (encode-pool.ts). */
export interface EncodeTask {
  format: RowTextFormat;
  /** The mappings without column rules: a rule's function cannot cross to another thread. */
  columns: Omit<ColumnMapping, 'transform'>[];
  /** Whole rows; moved to the thread, not copied. */
  block: Uint8Array;
}

/** The block's NDJSON lines, in its rows' order. */
export interface EncodedBlock {
  rows: number;
  /** Moved back to the calling thread, not copied. */
  chunks: Uint8Array[];
  nulledValues: Record<string, number>;
}

const BATCH_ROWS = 512;

/** Runs on an encoding thread: decodes the block's rows and encodes them as RowEncoder does on the main thread. */
export default function encodeBlock(task: EncodeTask): unknown {
  const block = Buffer.from(task.block.buffer, task.block.byteOffset, task.block.byteLength);
  // Lines are larger than the row text (names, quotes): a few chunks at most per block.
  const encoder = new RowEncoder(task.columns, 2 * block.length);
  let rows = 0;
  let batch: RawValue[][] = [];
  rowTextDecoder(task.format).decode(block, (row) => {
    batch.push(row);
    if (batch.length === BATCH_ROWS) {
      encoder.writeRows(batch);
      rows += batch.length;
      batch = [];
    }
  });
  encoder.writeRows(batch);
  rows += batch.length;
  const chunks = encoder.takeRest();
  const result: EncodedBlock = { rows, chunks, nulledValues: encoder.nulledValues };
  // Each chunk has a memory of its own (RowEncoder cuts into fresh buffers): moved, not copied.
  return move({ [transferableSymbol]: [...new Set(chunks.map((c) => c.buffer))], [valueSymbol]: result });
}
