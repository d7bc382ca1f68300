import type { LogicalType, RawValue } from '../logical-types';

/**
 * The rows of `COPY ... TO STDOUT` in text format (PostgreSQL documentation, "COPY", section
 * "File Formats", "Text Format"), as the value forms of sources/logical-types.ts:
 *   - a row ends at a newline byte and its columns are separated by tab bytes: COPY TO
 *     writes a newline, carriage return, tab or backslash inside a value as `\n`, `\r`, `\t`,
 *     `\\` (and backspace, form feed, vertical tab as `\b`, `\f`, `\v`), so a raw newline or
 *     tab is always structure, and a newline byte never occurs inside a multi-byte UTF-8
 *     character: a chunk is cut at its last newline, whatever the CopyData boundaries;
 *   - NULL is the two characters `\N` unescaped; an empty field is the empty string; a
 *     value that is the text `\N` arrives as `\\N`;
 *   - `\` followed by one to three octal digits, or by `x` and one or two hex digits, is
 *     the byte of that code (COPY TO never writes these, COPY FROM accepts them; they are
 *     read as bytes of the UTF-8 text); `\` before any other character is that character;
 *   - bytea's text under `bytea_output = hex` is `\x` and hex digits, which COPY writes
 *     with its backslash doubled: `\\x0a1b`.
 * The text of each value is the type's output text under the read's settings (sql.ts),
 * as the query path receives it, and is turned into the value form as types.ts does there.
 */
export class CopyTextRows {
  /** Bytes of a row not yet ended by a newline. */
  private rest: Buffer | undefined;
  private readonly forms: FieldForm[];

  constructor(types: LogicalType[]) {
    this.forms = types.map(fieldForm);
  }

  /** Hands each row this chunk completes to `onRow`. */
  push(chunk: Buffer, onRow: (row: RawValue[]) => void): void {
    let bytes = chunk;
    if (this.rest) {
      // Only the row the last chunk began is joined, not the whole chunk.
      const first = chunk.indexOf(NEWLINE_BYTE);
      if (first < 0) {
        this.rest = Buffer.concat([this.rest, chunk]);
        return;
      }
      const joined = Buffer.concat([this.rest, chunk.subarray(0, first + 1)]);
      this.rest = undefined;
      this.rows(joined.toString('utf8'), onRow);
      bytes = chunk.subarray(first + 1);
    }
    const end = bytes.lastIndexOf(NEWLINE_BYTE);
    if (end < 0) {
      if (bytes.length > 0) this.rest = bytes;
      return;
    }
    if (end + 1 < bytes.length) this.rest = bytes.subarray(end + 1);
    // One decode for many rows, values being slices of it; but no more than DECODE_BYTES at
    // once: a longer string is allocated outside V8's young generation, and only full
    // collections free it (a quarter of a megabyte at once cost 4 times the CPU of 64 KiB).
    let from = 0;
    while (end + 1 - from > DECODE_BYTES) {
      const cut = bytes.lastIndexOf(NEWLINE_BYTE, from + DECODE_BYTES - 1);
      if (cut < from) break; // one row longer than DECODE_BYTES: decoded whole below
      this.rows(bytes.toString('utf8', from, cut + 1), onRow);
      from = cut + 1;
    }
    this.rows(bytes.toString('utf8', from, end + 1), onRow);
  }

  /** The data has ended: an unfinished row is an error. */
  finish(): void {
    if (this.rest && this.rest.length > 0) throw new Error(`COPY data ended inside a row (${this.rest.length} bytes after the last newline)`);
  }

  private rows(text: string, onRow: (row: RawValue[]) => void): void {
    const forms = this.forms;
    const columns = forms.length;
    let at = 0;
    // The next backslash at or after `at`: fields before it need no unescaping.
    let backslash = text.indexOf('\\');
    if (backslash < 0) backslash = text.length;
    while (at < text.length) {
      const lineEnd = text.indexOf('\n', at);
      const row: RawValue[] = new Array(columns);
      for (let i = 0; i < columns; i++) {
        const tab = text.indexOf('\t', at);
        const last = i === columns - 1;
        if (last ? tab >= 0 && tab < lineEnd : tab < 0 || tab > lineEnd) throw fieldCountError(columns, last ? 'more' : 'fewer');
        const end = last ? lineEnd : tab;
        if (backslash < at) {
          backslash = text.indexOf('\\', at);
          if (backslash < 0) backslash = text.length;
        }
        const form = forms[i];
        if (backslash >= end) row[i] = valueOf(form, text.slice(at, end));
        else if (end - at === 2 && backslash === at && text.charCodeAt(at + 1) === N_CODE) row[i] = null;
        else if (form === 'bytea' && text.startsWith('\\\\x', at)) row[i] = Buffer.from(text.slice(at + 3, end), 'hex');
        else row[i] = valueOf(form, unescape(text.slice(at, end)));
        at = end + 1;
      }
      if (columns === 0) at = lineEnd + 1;
      onRow(row);
    }
  }
}

const NEWLINE_BYTE = 0x0a;
/** Bytes of rows decoded into one string. */
const DECODE_BYTES = 64 * 1024;
const N_CODE = 78; // N
const T_CODE = 116; // t

/** How a column's text becomes its value form (types.ts VALUE_PARSERS, by logical type instead of OID). */
type FieldForm = 'text' | 'bool' | 'bytea' | 'utc';

function fieldForm(type: LogicalType): FieldForm {
  if (type.kind === 'bool') return 'bool';
  if (type.kind === 'bytes') return 'bytea';
  if (type.kind === 'timestamp') return 'utc';
  return 'text';
}

function valueOf(form: FieldForm, text: string): RawValue {
  switch (form) {
    case 'text':
      return text;
    case 'bool':
      return text.charCodeAt(0) === T_CODE ? 'true' : 'false';
    case 'bytea':
      return Buffer.from(text.slice(2), 'hex');
    case 'utc':
      // The read's zone is UTC: drop the "+00" the server writes.
      return text.endsWith('+00') ? text.slice(0, -3) : text;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const isOctal = (c: string) => c >= '0' && c <= '7';
const isHex = (c: string) => /^[0-9A-Fa-f]$/.test(c);

/** A field's escapes undone; octal and hex escapes are bytes, so the field is rebuilt as UTF-8 bytes. */
export function unescape(field: string): string {
  const bytes: Buffer[] = [];
  let literal = '';
  let i = 0;
  while (i < field.length) {
    const c = field[i];
    if (c !== '\\' || i + 1 === field.length) {
      literal += c;
      i += 1;
      continue;
    }
    const next = field[i + 1];
    if (isOctal(next)) {
      let j = i + 1;
      while (j < field.length && j < i + 4 && isOctal(field[j])) j++;
      bytes.push(Buffer.from(literal, 'utf8'), Buffer.from([parseInt(field.slice(i + 1, j), 8) & 0xff]));
      literal = '';
      i = j;
    } else if (next === 'x' && i + 2 < field.length && isHex(field[i + 2])) {
      let j = i + 2;
      while (j < field.length && j < i + 4 && isHex(field[j])) j++;
      bytes.push(Buffer.from(literal, 'utf8'), Buffer.from([parseInt(field.slice(i + 2, j), 16)]));
      literal = '';
      i = j;
    } else {
      literal += SIMPLE_ESCAPES[next] ?? next;
      i += 2;
    }
  }
  if (bytes.length === 0) return literal;
  bytes.push(Buffer.from(literal, 'utf8'));
  return Buffer.concat(bytes).toString('utf8');
}

function fieldCountError(expected: number, than: 'more' | 'fewer'): Error {
  return new Error(`COPY row has ${than} fields than the ${expected} columns read`);
}
