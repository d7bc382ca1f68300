import { CopyTextRows, unescape } from '../../sources/postgres/copy-text';
import type { LogicalType, RawValue } from '../../sources/logical-types';

const STRING: LogicalType = { kind: 'string' };

/** The rows of COPY text data handed over in the given chunks. */
function parse(types: LogicalType[], chunks: Buffer[]): RawValue[][] {
  const parser = new CopyTextRows(types);
  const rows: RawValue[][] = [];
  for (const chunk of chunks) parser.push(chunk, (row) => rows.push(row));
  parser.finish();
  return rows;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** Every way of cutting `data` in two, and in single bytes. */
function cuts(data: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[...data].map((b) => Buffer.from([b]))];
  for (let at = 0; at <= data.length; at++) ways.push([data.subarray(0, at), data.subarray(at)]);
  return ways;
}

describe('COPY text format rows', () => {
  test('NULL, the empty string and the two characters \\N as data are three different values', () => {
    expect(parse([STRING, STRING, STRING], [utf8('\\N\t\t\\\\N\n')])).toEqual([[null, '', '\\N']]);
  });

  test('every backslash escape COPY writes, and the octal and hex forms it accepts', () => {
    const escaped = 'a\\bb\\fc\\nd\\re\\tf\\vg\\\\h\\101\\x42\\x4a\\7\\q\\x\\8';
    expect(parse([STRING], [utf8(escaped + '\n')])).toEqual([['a\bb\fc\nd\re\tf\vg\\hABJ\u0007qx8']]);
  });

  test('octal and hex escapes are bytes of the UTF-8 text', () => {
    expect(unescape('\\303\\251t\\xc3\\xa9')).toBe('été');
    expect(unescape('\\0101')).toBe('\u00081'); // three octal digits at most
    expect(unescape('\\x4142')).toBe('A42'); // two hex digits at most
    expect(unescape('end\\')).toBe('end\\');
  });

  test('tabs and newlines inside values come escaped; raw ones separate fields and rows', () => {
    const data = utf8('line one\\nline two\tcol\\tumn\n\\r\\n\t\n');
    expect(parse([STRING, STRING], [data])).toEqual([
      ['line one\nline two', 'col\tumn'],
      ['\r\n', ''],
    ]);
  });

  test('a row split across chunks at every byte, multi-byte UTF-8 characters included', () => {
    const data = utf8('1\tZürich 東京 😀\t\\N\n2\t\\\\N\té\n');
    const expected = [
      ['1', 'Zürich 東京 😀', null],
      ['2', '\\N', 'é'],
    ];
    for (const chunks of cuts(data)) expect(parse([STRING, STRING, STRING], chunks)).toEqual(expected);
  });

  test('values in their logical forms: bool, bytea in hex, timestamptz in UTC', () => {
    const types: LogicalType[] = [{ kind: 'bool' }, { kind: 'bool' }, { kind: 'bytes' }, { kind: 'bytes' }, { kind: 'timestamp' }, { kind: 'timestamp' }];
    const rows = parse(types, [utf8('t\tf\t\\\\x00ff0a5c\t\\\\x\t2024-02-29 23:59:59.5+00\tinfinity\n')]);
    expect(rows).toEqual([['true', 'false', Buffer.from([0x00, 0xff, 0x0a, 0x5c]), Buffer.alloc(0), '2024-02-29 23:59:59.5', 'infinity']]);
    expect(parse(types, [utf8('\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n')])).toEqual([[null, null, null, null, null, null]]);
  });

  test('a bytea split inside its escape is whole', () => {
    const data = utf8('\\\\xdeadbeef\n');
    for (const chunks of cuts(data)) expect(parse([{ kind: 'bytes' }], chunks)).toEqual([[Buffer.from('deadbeef', 'hex')]]);
  });

  test('data that ends inside a row, or a row of another width, is an error', () => {
    expect(() => parse([STRING], [utf8('a\nb')])).toThrow('ended inside a row');
    expect(() => parse([STRING, STRING], [utf8('a\n')])).toThrow('fewer fields');
    expect(() => parse([STRING], [utf8('a\tb\n')])).toThrow('more fields');
  });
});

describe('COPY text format rows in large chunks', () => {
  test('a chunk of many rows, decoded in pieces, gives the rows small chunks give, a row longer than a piece included', () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`${i}\t${i % 100 === 0 ? 'é'.repeat(40_000) : 'v\\t' + 'w'.repeat(i % 97)}\n`);
    const data = utf8(lines.join(''));
    const small: Buffer[] = [];
    for (let at = 0; at < data.length; at += 1000) small.push(data.subarray(at, at + 1000));
    const whole = parse([STRING, STRING], [data]);
    expect(whole).toHaveLength(5000);
    expect(whole).toEqual(parse([STRING, STRING], small));
    expect(whole[100]).toEqual(['100', 'é'.repeat(40_000)]);
  });
});
