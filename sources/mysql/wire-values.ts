import iconv from 'iconv-lite';
import type { RawValue } from '../logical-types';
import { internalGeometryToWkt } from './geometry-text';

/** A result column as mysql2 reads its definition: the type code and character set the server sent. */
export interface WireField {
  name: string;
  /** MySQL's type code (include/field_types.h). */
  columnType: number;
  /** mysql2's Node encoding for the column's character set: `utf8`, `binary` (set 63), ... */
  encoding: string;
}

/** The bytes of one row as the text protocol sends them: length-encoded values from `offset` to `end`. */
export interface RowBytes {
  buffer: Buffer;
  offset: number;
  end: number;
}

/** How a column's bytes become its value form (logical-types.ts). */
const enum Read {
  /** One byte, one character: numbers, dates and times (always ASCII) and character set 63 text. */
  Latin1,
  Utf8,
  Bytes,
  Bit,
  Geometry,
  /** Any other character set: Node's decoder for it, else iconv-lite's, as mysql2 decodes it. */
  Other,
}

const TYPE_BIT = 16;
const TYPE_JSON = 245;
const TYPE_GEOMETRY = 255;

/**
 * Values up to this many bytes are cut out of the row's one decoded string rather than
 * decoded alone (a native decode per value costs more than copying a short value). V8
 * copies a substring this short; a longer one would be a slice that keeps the whole row's
 * string alive as long as the value, and the load file's pending chunk holds hundreds of
 * rows' values: on the wide bench table, three times the memory the garbage collector
 * promoted and more CPU than the decodes it saved.
 */
const CUT_MAX = 12;
/** A row longer than this (a large BLOB or TEXT) is not decoded whole: its values are decoded one by one. */
const WHOLE_ROW_MAX = 4 * 1024;

function readFor(field: WireField, isBytesColumn: boolean): { read: Read; encoding: string } {
  if (isBytesColumn) return { read: Read.Bytes, encoding: '' };
  switch (field.columnType) {
    // JSON (MySQL only) is sent with character set 63; its bytes are UTF-8, what JSON text is.
    // Decoding them by the set (latin1) would garble every non-ASCII character.
    case TYPE_JSON:
      return { read: Read.Utf8, encoding: 'utf8' };
    case TYPE_BIT:
      return { read: Read.Bit, encoding: '' };
    case TYPE_GEOMETRY:
      return { read: Read.Geometry, encoding: '' };
  }
  if (field.encoding === 'utf8') return { read: Read.Utf8, encoding: 'utf8' };
  if (field.encoding === 'binary' || field.encoding === 'latin1') return { read: Read.Latin1, encoding: 'latin1' };
  return { read: Read.Other, encoding: field.encoding };
}

/** Text in a character set other than UTF-8 and latin1, decoded the way mysql2 decodes it (its parsers/string.js). */
function decodeOther(b: Buffer, from: number, to: number, encoding: string): string {
  return Buffer.isEncoding(encoding) ? b.toString(encoding, from, to) : iconv.decode(b.subarray(from, to), encoding);
}

const isAscii = (b: Buffer, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (b[i] > 0x7f) return false;
  return true;
};

/**
 * Reads rows of one result set in the text protocol into each column's value form
 * (logical-types.ts), chosen once per column from the type code and character set of its
 * definition, so that it holds whichever of MySQL 8 or MariaDB sent it:
 * - `bytes` columns (BINARY, VARBINARY, BLOB): a Buffer with the bytes;
 * - JSON (type 245, MySQL only, sent with the binary character set): the bytes as UTF-8;
 * - BIT (type 16): the bits, most significant byte first, as an unsigned decimal;
 * - GEOMETRY (type 255): the internal format, as WKT (geometry-text.ts);
 * - anything else: the server's own text, decoded by the column's character set (numbers,
 *   dates and times come as ASCII text with the binary set, read as latin1).
 *
 * Per row, the whole row is decoded once as latin1 (one byte, one character, so the byte
 * offsets stand) and each short value is a substring of it: one native call per row
 * instead of one per short value. A UTF-8 value is taken from there only when its bytes
 * are all ASCII, where UTF-8 and latin1 read alike; longer values are decoded by themselves.
 */
export class RowDecoder {
  private readonly reads: Read[];
  private readonly encodings: string[];

  constructor(fields: readonly WireField[], isBytesColumn: (index: number) => boolean) {
    const chosen = fields.map((f, i) => readFor(f, isBytesColumn(i)));
    this.reads = chosen.map((c) => c.read);
    this.encodings = chosen.map((c) => c.encoding);
  }

  decode(packet: RowBytes): RawValue[] {
    const reads = this.reads;
    const n = reads.length;
    const b = packet.buffer;
    const base = packet.offset;
    const end = packet.end;
    const whole = end - base <= WHOLE_ROW_MAX ? b.toString('latin1', base, end) : undefined;
    const row: RawValue[] = new Array(n);
    let at = base;
    for (let i = 0; i < n; i++) {
      // The value's length, length-encoded: one byte below 251; 251 is NULL; 252, 253, 254
      // announce 2, 3 or 8 little-endian bytes.
      let len = b[at];
      if (len < 0xfb) {
        at += 1;
      } else if (len === 0xfb) {
        at += 1;
        row[i] = null;
        continue;
      } else if (len === 0xfc) {
        len = b[at + 1] | (b[at + 2] << 8);
        at += 3;
      } else if (len === 0xfd) {
        len = b[at + 1] | (b[at + 2] << 8) | (b[at + 3] << 16);
        at += 4;
      } else {
        // 8 bytes; a row fits in a JavaScript number's integer range long before 2^53.
        len = b.readUInt32LE(at + 1) + b.readUInt32LE(at + 5) * 0x100000000;
        at += 9;
      }
      const from = at;
      at += len;
      if (at > end) throw new Error(`a row packet ends ${at - end} bytes before its value ${i + 1}`);
      switch (reads[i]) {
        case Read.Latin1:
          row[i] = whole !== undefined && len <= CUT_MAX ? whole.substring(from - base, at - base) : b.toString('latin1', from, at);
          break;
        case Read.Utf8:
          row[i] = whole !== undefined && len <= CUT_MAX && isAscii(b, from, at) ? whole.substring(from - base, at - base) : b.toString('utf8', from, at);
          break;
        case Read.Bytes:
          row[i] = b.subarray(from, at);
          break;
        case Read.Bit:
          row[i] = len === 0 ? '0' : BigInt('0x' + b.toString('hex', from, at)).toString();
          break;
        case Read.Geometry:
          row[i] = internalGeometryToWkt(b.subarray(from, at));
          break;
        case Read.Other:
          row[i] = decodeOther(b, from, at, this.encodings[i]);
          break;
      }
    }
    return row;
  }
}
