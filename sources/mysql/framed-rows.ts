import iconv from 'iconv-lite';
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
    const row = new FramedRow(block);
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

/** One row in a block, for RowDecoder; values in character sets Node has no decoder for are read with iconv-lite, as mysql2 reads them. */
class FramedRow implements RowBytes {
  offset = 0;
  end = 0;

  constructor(readonly buffer: Buffer) {}

  readLengthCodedString(encoding: string): string | null {
    const b = this.buffer;
    let at = this.offset;
    let len = b[at];
    if (len === 0xfb) {
      this.offset = at + 1;
      return null;
    }
    if (len < 0xfb) {
      at += 1;
    } else if (len === 0xfc) {
      len = b.readUInt16LE(at + 1);
      at += 3;
    } else if (len === 0xfd) {
      len = b.readUIntLE(at + 1, 3);
      at += 4;
    } else {
      len = b.readUInt32LE(at + 1) + b.readUInt32LE(at + 5) * 0x100000000;
      at += 9;
    }
    this.offset = at + len;
    return Buffer.isEncoding(encoding) ? b.toString(encoding, at, at + len) : iconv.decode(b.subarray(at, at + len), encoding);
  }
}
