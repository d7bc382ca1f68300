import type { RawValue } from '../sources/logical-types';
import { MAX_JSON_BYTES_PER_UNIT, writeJsonString, writeJsonStringOfUtf8, writeText } from './json-bytes';
import { ColumnMapping, Encoding } from './types';

/** A load file's lines are handed on in chunks of about this many bytes. */
export const CHUNK_BYTES = 256 * 1024;
/** Room past CHUNK_BYTES, so that a chunk is cut after a whole line without copying. */
const SLACK_BYTES = 64 * 1024;

/** How a column's values are written: one small number each, switched on per value. */
const enum Kind {
  Integer,
  DecimalString,
  Float,
  Bool,
  String,
  Bytes,
  Date,
  TimestampUtc,
  Time,
  JsonText,
  /** A column rule replaces the value: its result is written as a JSON string. */
  Transformed,
}

const KIND: Record<Encoding, Kind> = {
  integer: Kind.Integer,
  'decimal-string': Kind.DecimalString,
  float: Kind.Float,
  bool: Kind.Bool,
  string: Kind.String,
  bytes: Kind.Bytes,
  date: Kind.Date,
  datetime: Kind.Date,
  'timestamp-utc': Kind.TimestampUtc,
  time: Kind.Time,
  'json-text': Kind.JsonText,
};

const QUOTE = 0x22;
const UTC_SUFFIX = Buffer.from('+00:00', 'latin1');
const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');
/** Quoted and suffixed forms add at most this many bytes to a value. */
const FRAME_BYTES = 16;

/**
 * Turns rows of raw values into NEWLINE_DELIMITED_JSON lines, written as UTF-8 straight into
 * large buffers (writeRows, then takeChunks / takeRest). Values that BigQuery cannot hold
 * (MySQL zero dates, PostgreSQL infinity or years beyond 9999) become NULL and are counted
 * per column, so the table's result says exactly what was changed.
 */
export class RowEncoder {
  readonly nulledValues: Record<string, number> = {};
  private readonly kinds: Kind[];
  /** `{"name":` for a line's first value, `,"name":` for the others, as bytes. */
  private readonly firstKeys: Buffer[];
  private readonly nextKeys: Buffer[];
  private readonly transforms: (((value: string | Buffer) => string) | undefined)[];
  private buf: Buffer;
  private pos = 0;
  /** Where the line being written began in buf. */
  private lineStart = 0;
  private readonly full: Buffer[] = [];

  constructor(
    private readonly columns: ColumnMapping[],
    private readonly chunkBytes = CHUNK_BYTES,
  ) {
    this.kinds = columns.map((c) => (c.transform ? Kind.Transformed : KIND[c.encoding]));
    this.firstKeys = columns.map((c) => Buffer.from(`{${JSON.stringify(c.bigQueryName)}:`, 'utf8'));
    this.nextKeys = columns.map((c) => Buffer.from(`,${JSON.stringify(c.bigQueryName)}:`, 'utf8'));
    this.transforms = columns.map((c) => c.transform);
    this.buf = Buffer.allocUnsafe(chunkBytes + SLACK_BYTES);
  }

  /** Appends the rows' lines; a chunk is complete (takeChunks) each time chunkBytes are passed. */
  writeRows(rows: RawValue[][]): void {
    for (let r = 0; r < rows.length; r++) {
      this.writeLine(rows[r]);
      if (this.pos >= this.chunkBytes) this.cut(this.pos);
    }
  }

  /** The complete chunks written so far; each Buffer is the caller's from now on. */
  takeChunks(): Buffer[] {
    return this.full.splice(0, this.full.length);
  }

  /** Everything written and not yet taken, complete chunks first. */
  takeRest(): Buffer[] {
    if (this.pos > 0) this.cut(this.pos);
    return this.takeChunks();
  }

  /** One row's line, as text (for tests and small uses; writeRows is the fast path). */
  encode(row: RawValue[]): string {
    this.writeLine(row);
    const line = this.buf.toString('utf8', this.lineStart, this.pos);
    this.pos = this.lineStart; // the line is not kept
    return line;
  }

  /** Ends the current chunk at `end` (a line's end), the rest moving to a new buffer. */
  private cut(end: number): void {
    const size = Math.max(this.chunkBytes + SLACK_BYTES, this.pos - end);
    const next = Buffer.allocUnsafe(size);
    if (this.pos > end) this.buf.copy(next, 0, end, this.pos);
    if (end > 0) this.full.push(this.buf.subarray(0, end));
    this.pos -= end;
    this.lineStart -= end;
    this.buf = next;
  }

  /** Room for `bytes` more at pos: complete lines go to a chunk, a line too long for the buffer gets a larger one. */
  private makeRoom(bytes: number): void {
    if (this.lineStart > 0) this.cut(this.lineStart);
    if (this.pos + bytes > this.buf.length) {
      const larger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + bytes));
      this.buf.copy(larger, 0, 0, this.pos);
      this.buf = larger;
    }
  }

  private countNulled(i: number): void {
    const name = this.columns[i].source.name;
    this.nulledValues[name] = (this.nulledValues[name] ?? 0) + 1;
  }

  private writeLine(row: RawValue[]): void {
    const kinds = this.kinds;
    // buf and pos live in locals for the line; makeRoom may replace the buffer and move the line.
    let buf = this.buf;
    let pos = (this.lineStart = this.pos);
    let first = true;
    for (let i = 0; i < kinds.length; i++) {
      const raw = row[i];
      if (raw === null || raw === undefined) continue; // absent key loads as NULL
      const kind = kinds[i];
      // A Buffer is read as UTF-8; string columns' Buffers are copied as bytes, without decoding.
      const text =
        kind === Kind.Transformed ? this.transforms[i]!(raw) : typeof raw === 'string' ? raw : kind === Kind.String || kind === Kind.Bytes ? '' : raw.toString('utf8');
      if (!fits(kind, text)) {
        this.countNulled(i);
        continue;
      }
      const key = first ? this.firstKeys[i] : this.nextKeys[i];
      first = false;
      const room = key.length + maxValueBytes(kind, raw, text);
      if (pos + room > buf.length) {
        this.pos = pos;
        this.makeRoom(room);
        buf = this.buf;
        pos = this.pos;
      }
      pos = copyBytes(buf, pos, key);
      switch (kind) {
        case Kind.Integer:
        case Kind.JsonText:
          pos = writeText(buf, pos, text);
          break;
        case Kind.Float:
          // BigQuery reads these three as strings in JSON; every other value is a number literal.
          if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') pos = quoted(buf, pos, text);
          else pos = writeText(buf, pos, text);
          break;
        case Kind.Bool:
          pos = copyBytes(buf, pos, text === 'true' ? TRUE : FALSE);
          break;
        case Kind.DecimalString:
        case Kind.Date:
        case Kind.Time:
          pos = quoted(buf, pos, text);
          break;
        case Kind.TimestampUtc:
          // UTC by the value form, with no zone written: say so, so that BigQuery reads no other.
          buf[pos++] = QUOTE;
          pos = writeText(buf, pos, text);
          pos = copyBytes(buf, pos, UTC_SUFFIX);
          buf[pos++] = QUOTE;
          break;
        case Kind.String:
          pos = typeof raw === 'string' ? writeJsonString(buf, pos, raw) : writeJsonStringOfUtf8(buf, pos, raw);
          break;
        case Kind.Bytes:
          pos = quoted(buf, pos, (typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw).toString('base64'));
          break;
        case Kind.Transformed:
          pos = writeJsonString(buf, pos, text);
          break;
      }
    }
    if (pos + 3 > buf.length) {
      this.pos = pos;
      this.makeRoom(3);
      buf = this.buf;
      pos = this.pos;
    }
    if (first) buf[pos++] = 0x7b; // {
    buf[pos++] = 0x7d; // }
    buf[pos++] = 0x0a; // \n
    this.pos = pos;
  }
}

/** False for a value BigQuery cannot hold: it is loaded as NULL and counted. */
function fits(kind: Kind, text: string): boolean {
  switch (kind) {
    case Kind.DecimalString:
      return text !== 'NaN';
    case Kind.Date:
    case Kind.TimestampUtc:
      return dateInRange(text);
    case Kind.Time:
      return !text.startsWith('24:');
    default:
      return true;
  }
}

/** The most bytes a value can take, so that room is made once per value. */
function maxValueBytes(kind: Kind, raw: string | Buffer, text: string): number {
  switch (kind) {
    case Kind.String:
      return MAX_JSON_BYTES_PER_UNIT * raw.length + 2;
    case Kind.Transformed:
      return MAX_JSON_BYTES_PER_UNIT * text.length + 2;
    case Kind.Bytes:
      // base64 of the bytes; a string's UTF-8 has at most 3 bytes per unit.
      return 4 * Math.ceil((typeof raw === 'string' ? 3 * raw.length : raw.length) / 3) + 2;
    default:
      return 3 * text.length + FRAME_BYTES;
  }
}

/** Short constant bytes (keys, literals): a loop beats a native copy's call at these sizes. */
function copyBytes(buf: Buffer, pos: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i];
  return pos;
}

/** `"text"`, text written as UTF-8 as it is (the value forms that need no escaping). */
function quoted(buf: Buffer, pos: number, text: string): number {
  buf[pos++] = QUOTE;
  pos = writeText(buf, pos, text);
  buf[pos++] = QUOTE;
  return pos;
}

const ZERO = 48;
const twoZeros = (t: string, at: number) => t.charCodeAt(at) === ZERO && t.charCodeAt(at + 1) === ZERO;

/**
 * BigQuery's DATE/DATETIME/TIMESTAMP range is years 0001 to 9999: no year, month or day 0,
 * no five-digit year, nothing BC. Character tests, not a regular expression: this runs
 * for every date of every row.
 */
function dateInRange(t: string): boolean {
  if (t.length < 10 || t.charCodeAt(4) !== 45 /* - */ || t.charCodeAt(7) !== 45) return false;
  if (twoZeros(t, 0) && twoZeros(t, 2)) return false;
  if (twoZeros(t, 5) || twoZeros(t, 8)) return false;
  return !t.endsWith(' BC');
}
