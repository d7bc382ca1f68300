import { Readable } from 'node:stream';
import type { LogicalType, RawValue } from './logical-types';

/**
 * How a RowTextBlocks stream's rows are decoded (sources/row-text-decoders.ts): plain data,
 * so that it can be handed to another thread.
 *   - `postgres-copy-text`: COPY's text format, each row ended by a newline;
 *   - `mysql-rows`: the text protocol's row packets, each framed by its length (4 bytes,
 *     little-endian), decoded by the result's column definitions.
 */
export type RowTextFormat =
  | { kind: 'postgres-copy-text'; types: LogicalType[] }
  | { kind: 'mysql-rows'; fields: { name: string; columnType: number; encoding: string }[]; bytesColumns: boolean[] };

/** Decodes whole rows of one format; a block holds whole rows only. */
export interface RowTextDecoder {
  decode(block: Buffer, onRow: (row: RawValue[]) => void): void;
}

/** A block is cut once this many bytes have gathered (at the last row end before). */
export const BLOCK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;
const FRAME_BYTES = 4;

/**
 * A source's rows as the server's own bytes, for decoding and encoding on other threads:
 * gathered into blocks of about BLOCK_BYTES, each holding whole rows only and memory of its
 * own (never a slice of the socket's buffers), so that a block can be moved to another
 * thread without a copy. Rows come as text ended by newlines (`add`) or one by one
 * (`addRow`, framed here by their length). Backpressure as RowBatches: both answer false
 * when the consumer is behind, and `_read` resumes the source.
 */
export class RowTextBlocks extends Readable {
  private block: Buffer = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  private used = 0;

  constructor(
    /** Known before the first block goes out: a source may learn it from the result's first message. */
    public format: RowTextFormat | undefined,
    private readonly resumeSource: () => void,
  ) {
    super({ objectMode: true, highWaterMark: 4 });
  }

  override _read(): void {
    this.resumeSource();
  }

  /** Adds text whose rows end with a newline, cut anywhere. */
  add(chunk: Buffer): boolean {
    let ready = true;
    let from = 0;
    while (from < chunk.length) {
      const n = Math.min(chunk.length - from, this.block.length - this.used);
      chunk.copy(this.block, this.used, from, from + n);
      this.used += n;
      from += n;
      if (this.used === this.block.length) ready = this.cutAtNewline() && ready;
    }
    return ready;
  }

  /** Adds one whole row, `bytes` from `start` to `end`. */
  addRow(bytes: Buffer, start: number, end: number): boolean {
    const size = FRAME_BYTES + end - start;
    let ready = true;
    if (this.used + size > this.block.length) {
      ready = this.used === 0 || this.push(this.block.subarray(0, this.used));
      this.block = Buffer.allocUnsafeSlow(Math.max(BLOCK_BYTES, size));
      this.used = 0;
    }
    this.block.writeUInt32LE(end - start, this.used);
    bytes.copy(this.block, this.used + FRAME_BYTES, start, end);
    this.used += size;
    return ready;
  }

  /** The last bytes have arrived: they must end a row. */
  finish(): void {
    if (this.format?.kind === 'postgres-copy-text' && this.used > 0 && this.block[this.used - 1] !== NEWLINE) {
      const after = this.used - 1 - this.block.lastIndexOf(NEWLINE, this.used - 1);
      this.destroy(new Error(`the source's data ended inside a row (${after} bytes after the last row end)`));
      return;
    }
    if (this.used > 0) this.push(this.block.subarray(0, this.used));
    this.used = 0;
    this.push(null);
  }

  /** The full block up to its last newline goes on; the unfinished row starts the next block (grown if one row fills it). */
  private cutAtNewline(): boolean {
    const end = this.block.lastIndexOf(NEWLINE, this.used - 1) + 1;
    const size = end === 0 ? 2 * this.block.length : BLOCK_BYTES;
    const next = Buffer.allocUnsafeSlow(Math.max(size, this.used - end));
    this.block.copy(next, 0, end, this.used);
    const full = this.block.subarray(0, end);
    this.used -= end;
    this.block = next;
    return end === 0 ? true : this.push(full);
  }
}
