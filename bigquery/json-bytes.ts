/**
 * Text and JSON strings written as UTF-8 straight into a byte buffer, so that a load file's
 * lines need no intermediate JavaScript strings. Each writer produces byte for byte what
 * `Buffer.from(x, 'utf8')` or `Buffer.from(JSON.stringify(x), 'utf8')` would: most
 * characters are copied as they are, and only those JSON must escape (quote, backslash,
 * controls below U+0020, lone surrogates) take the slow branch. The caller makes room
 * first: at most MAX_JSON_BYTES_PER_UNIT bytes for each UTF-16 unit, plus the quotes.
 *
 * Each function takes the position to write at and returns the position after.
 */
import { isUtf8 } from 'node:buffer';

/** A JSON-escaped UTF-16 unit takes at most 6 bytes (`\u001f`); a UTF-8 character at most 3 per unit. */
export const MAX_JSON_BYTES_PER_UNIT = 6;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66];

/** The two-character escapes of JSON.stringify, by code unit (0: none, \u00XX instead). */
const SHORT_ESCAPE = new Uint8Array(0x60);
SHORT_ESCAPE[0x08] = 0x62; // \b
SHORT_ESCAPE[0x09] = 0x74; // \t
SHORT_ESCAPE[0x0a] = 0x6e; // \n
SHORT_ESCAPE[0x0c] = 0x66; // \f
SHORT_ESCAPE[0x0d] = 0x72; // \r
SHORT_ESCAPE[QUOTE] = QUOTE;
SHORT_ESCAPE[BACKSLASH] = BACKSLASH;

/** `\uXXXX` with lowercase hex digits, as JSON.stringify writes controls and lone surrogates. */
function writeUnicodeEscape(buf: Uint8Array, pos: number, unit: number): number {
  buf[pos++] = BACKSLASH;
  buf[pos++] = 0x75; // u
  buf[pos++] = HEX[unit >> 12];
  buf[pos++] = HEX[(unit >> 8) & 15];
  buf[pos++] = HEX[(unit >> 4) & 15];
  buf[pos++] = HEX[unit & 15];
  return pos;
}

function writeThreeBytes(buf: Uint8Array, pos: number, c: number): number {
  buf[pos++] = 0xe0 | (c >> 12);
  buf[pos++] = 0x80 | ((c >> 6) & 63);
  buf[pos++] = 0x80 | (c & 63);
  return pos;
}

function writeFourBytes(buf: Uint8Array, pos: number, high: number, low: number): number {
  const cp = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
  buf[pos++] = 0xf0 | (cp >> 18);
  buf[pos++] = 0x80 | ((cp >> 12) & 63);
  buf[pos++] = 0x80 | ((cp >> 6) & 63);
  buf[pos++] = 0x80 | (cp & 63);
  return pos;
}

/**
 * Writes the characters from `i` on, beyond the ASCII fast path: UTF-8, and when `json`,
 * JSON's escapes; a lone surrogate becomes `\udXXX` in JSON and U+FFFD in text.
 */
function writeRest(buf: Buffer, pos: number, s: string, i: number, json: boolean): number {
  const n = s.length;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (json && (c < 0x20 || c === QUOTE || c === BACKSLASH)) {
        const short = SHORT_ESCAPE[c];
        if (short !== 0) {
          buf[pos++] = BACKSLASH;
          buf[pos++] = short;
        } else {
          pos = writeUnicodeEscape(buf, pos, c);
        }
      } else {
        buf[pos++] = c;
      }
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 63);
    } else if (c < 0xd800 || c > 0xdfff) {
      pos = writeThreeBytes(buf, pos, c);
    } else {
      const next = c < 0xdc00 && i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        pos = writeFourBytes(buf, pos, c, next);
        i++;
      } else if (json) {
        pos = writeUnicodeEscape(buf, pos, c);
      } else {
        pos = writeThreeBytes(buf, pos, 0xfffd);
      }
    }
  }
  return pos;
}

/**
 * From this length on, a native copy's fixed cost (a call into C++, about as much as 30
 * characters of the loop) pays: long text is written by Buffer.write.
 */
const NATIVE_FROM = 48;

/** `s` as UTF-8, as Buffer.from(s, 'utf8') gives it. Room needed: 3 bytes per unit. */
export function writeText(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  if (n >= NATIVE_FROM) return pos + buf.write(s, pos);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return writeRest(buf, pos, s, i, false);
    buf[pos++] = c;
  }
  return pos;
}

/** `s` as a JSON string in UTF-8, as Buffer.from(JSON.stringify(s), 'utf8') gives it. */
export function writeJsonString(buf: Buffer, pos: number, s: string): number {
  buf[pos++] = QUOTE;
  const n = s.length;
  if (n >= NATIVE_FROM) {
    // Long text: copied natively, then its bytes checked for anything to escape. Lone
    // surrogates come out as U+FFFD (EF BF BD): any U+FFFD sends the text the slow way.
    const end = pos + buf.write(s, pos);
    if (needsNoEscape(buf, pos, end)) {
      buf[end] = QUOTE;
      return end + 1;
    }
    pos = writeRest(buf, pos, s, 0, true);
    buf[pos++] = QUOTE;
    return pos;
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === QUOTE || c === BACKSLASH || c >= 0x80) {
      pos = writeRest(buf, pos, s, i, true);
      break;
    }
    buf[pos++] = c;
  }
  buf[pos++] = QUOTE;
  return pos;
}

/** True when the UTF-8 bytes hold no quote, backslash, control, nor U+FFFD (EF BF BD). */
function needsNoEscape(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = buf[i];
    if (b < 0x20 || b === QUOTE || b === BACKSLASH || (b === 0xef && buf[i + 1] === 0xbf && buf[i + 2] === 0xbd)) return false;
  }
  return true;
}

/**
 * UTF-8 bytes of text as a JSON string, as Buffer.from(JSON.stringify(text.toString('utf8')))
 * gives it: valid UTF-8 is copied with only its quotes, backslashes and controls escaped;
 * anything else is decoded first (invalid sequences become U+FFFD, as toString makes them).
 */
export function writeJsonStringOfUtf8(buf: Buffer, pos: number, text: Buffer): number {
  if (!isUtf8(text)) return writeJsonString(buf, pos, text.toString('utf8'));
  buf[pos++] = QUOTE;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const b = text[i];
    if (b < 0x20 || b === QUOTE || b === BACKSLASH) {
      const short = SHORT_ESCAPE[b];
      if (short !== 0) {
        buf[pos++] = BACKSLASH;
        buf[pos++] = short;
      } else {
        pos = writeUnicodeEscape(buf, pos, b);
      }
    } else {
      buf[pos++] = b;
    }
  }
  buf[pos++] = QUOTE;
  return pos;
}
