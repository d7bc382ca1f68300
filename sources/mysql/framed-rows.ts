import type { RawValue } from '../logical-types';
import type { RowTextDecoder } from '../row-text';
import { RowBytes, RowDecoder, WireField } from './wire-values';

/**
 * The rows of a `mysql-rows` block (sources/row-text.ts): each row packet's payload after
 * its length (4 bytes, little-endian), read by the RowDecoder the main thread would use, so
 * that every value is the same. Loads no mysql2: it runs on encoding threads.
 */
export class FramedRows implements RowTextDecoder {
  private readonly decoder: RowDecoder;

  constructor(fields: readonly WireField[], bytesColumns: readonly boolean[]) {
    this.decoder = new RowDecoder(fields, (i) => bytesColumns[i]);
  }

  decode(block: Buffer, onRow: (row: RawValue[]) => void): void {
    const row: RowBytes = { buffer: block, offset: 0, end: 0 };
    let at = 0;
    while (at < block.length) {
      const length = block.readUInt32LE(at);
      row.offset = at + 4;
      row.end = row.offset + length;
      if (row.end > block.length) throw new Error(`a block of rows ends ${row.end - block.length} bytes inside its last row`);
      onRow(this.decoder.decode(row));
      at = row.end;
    }
  }
}
