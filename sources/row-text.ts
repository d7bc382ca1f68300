import { Readable } from 'node:stream';
import type { LogicalType, RawValue } from './logical-types';

/**
 * How the text of a RowTextBlocks stream is decoded into rows (sources/registry.ts
 * rowTextDecoder): plain data, so that it can be handed to another thread.
 */
export type RowTextFormat = { kind: 'postgres-copy-text'; types: LogicalType[] };

/** Decodes whole rows of one format; a block holds whole rows only. */
export interface RowTextDecoder {
  decode(block: Buffer, onRow: (row: RawValue[]) => void): void;
}

/** A block is cut once this many bytes have gathered (at the last row end before). */
export const BLOCK_BYTES = 256 * 1024;

/**
 * A source's rows as the server's own text, for decoding and encoding on other threads: the
 * text gathered into blocks of about BLOCK_BYTES, each cut after a row's last byte and held in
 * memory of its own (never a slice of the socket's buffers), so that a block can be moved to
 * another thread without a copy. Backpressure as RowBatches: `add` answers false when the
 * consumer is behind, `_read` resumes the source. Each row must end with `rowEnd`.
 */
export class RowTextBlocks extends Readable {
  private block: Buffer = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  private used = 0;

  constructor(
    readonly format: RowTextFormat,
    private readonly resumeSource: () => void,
    private readonly rowEnd = 0x0a,
  ) {
    super({ objectMode: true, highWaterMark: 4 });
  }

  override _read(): void {
    this.resumeSource();
  }

  /** Adds the server's bytes; false when the reader is behind and the source should pause. */
  add(chunk: Buffer): boolean {
    let ready = true;
    let from = 0;
    while (from < chunk.length) {
      const n = Math.min(chunk.length - from, this.block.length - this.used);
      chunk.copy(this.block, this.used, from, from + n);
      this.used += n;
      from += n;
      if (this.used === this.block.length) ready = this.cut() && ready;
    }
    return ready;
  }

  /** The last bytes have arrived: they must end a row. */
  finish(): void {
    if (this.used > 0 && this.block[this.used - 1] !== this.rowEnd) {
      const after = this.used - 1 - this.block.lastIndexOf(this.rowEnd, this.used - 1);
      this.destroy(new Error(`the source's data ended inside a row (${after} bytes after the last row end)`));
      return;
    }
    if (this.used > 0) this.push(this.block.subarray(0, this.used));
    this.used = 0;
    this.push(null);
  }

  /** The full block up to its last row end goes on; the unfinished row starts the next block (grown if one row fills it). */
  private cut(): boolean {
    const end = this.block.lastIndexOf(this.rowEnd, this.used - 1) + 1;
    const size = end === 0 ? 2 * this.block.length : BLOCK_BYTES;
    const next = Buffer.allocUnsafeSlow(Math.max(size, this.used - end));
    this.block.copy(next, 0, end, this.used);
    const full = this.block.subarray(0, end);
    this.used -= end;
    this.block = next;
    return end === 0 ? true : this.push(full);
  }
}
