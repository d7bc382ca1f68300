import { move, transferableSymbol, valueSymbol } from 'piscina';
import { RowEncoder } from '../../bigquery/row-encoder';
import type { ColumnMapping } from '../../bigquery/types';
import type { RawValue } from '../../sources/logical-types';
import type { RowTextDecoder, RowTextFormat } from '../../sources/row-text';
import { rowTextDecoder } from '../../sources/row-text-decoders';

/** One block of a table's row text, to be made NDJSON by an encoding thread (encode-pool.ts). */
export interface EncodeTask {
  /** The read's number in this process: a thread keeps the read's decoder and encoder from one block to the next. */
  read: number;
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
/** Reads whose decoder and encoder a thread keeps (the oldest is dropped): a worker's reads at once, and more. */
const READS_KEPT = 16;

interface ReadCoders {
  decoder: RowTextDecoder;
  encoder: RowEncoder;
}

/** This thread's coders by read: made once per read, not per block (a new encoder per block cost a fifth more CPU). */
const coders = new Map<number, ReadCoders>();

function codersOf(task: EncodeTask): ReadCoders {
  let kept = coders.get(task.read);
  if (!kept) {
    kept = { decoder: rowTextDecoder(task.format), encoder: new RowEncoder(task.columns) };
    coders.set(task.read, kept);
    if (coders.size > READS_KEPT) coders.delete(coders.keys().next().value!);
  }
  return kept;
}

/** Runs on an encoding thread: decodes the block's rows and encodes them as RowEncoder does on the main thread. */
export default function encodeBlock(task: EncodeTask): unknown {
  const block = Buffer.from(task.block.buffer, task.block.byteOffset, task.block.byteLength);
  const { decoder, encoder } = codersOf(task);
  let rows = 0;
  let batch: RawValue[][] = [];
  decoder.decode(block, (row) => {
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
  // The encoder counts for the whole read; the block's own counts go back, and it starts again from none.
  const nulledValues = { ...encoder.nulledValues };
  for (const column of Object.keys(nulledValues)) delete encoder.nulledValues[column];
  const result: EncodedBlock = { rows, chunks, nulledValues };
  // Each chunk has a memory of its own (RowEncoder cuts into fresh buffers): moved, not copied.
  return move({ [transferableSymbol]: [...new Set(chunks.map((c) => c.buffer))], [valueSymbol]: result });
}
