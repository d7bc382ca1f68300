import { RowEncoder } from '../../bigquery/row-encoder';
import { bigQueryColumn, ColumnMapping } from '../../bigquery/types';
import type { LogicalType, RawValue } from '../../sources/logical-types';

const column = (name: string, type: LogicalType, transform?: (v: string | Buffer) => string): ColumnMapping => ({
  ...bigQueryColumn({ name, columnType: type.kind, nullable: true, type }),
  ...(transform && { transform }),
});

const WIDE: ColumnMapping[] = [
  column('id', { kind: 'integer' }),
  column('amount', { kind: 'decimal', precision: 12, scale: 2 }),
  column('ratio', { kind: 'float' }),
  column('flag', { kind: 'bool' }),
  column('note', { kind: 'string' }),
  column('blob', { kind: 'bytes' }),
  column('day', { kind: 'date' }),
  column('at', { kind: 'timestamp' }),
  column('clock', { kind: 'time' }),
  column('doc', { kind: 'json' }),
];

/** A row of WIDE whose text varies with n, hard characters included. */
function wideRow(n: number): RawValue[] {
  const notes = ['plain', 'quote " and \\ backslash', 'line\nbreak\ttab\u0001', 'café 日本 🚀', '\u2028\u2029', 'lone \ud800 surrogate', ''];
  return [
    String(n),
    `${n}.${n % 100}`,
    n % 7 === 0 ? 'NaN' : String(n / 3),
    n % 2 ? 'true' : 'false',
    n % 5 === 0 ? null : `${notes[n % notes.length]} #${n}`,
    Buffer.from([n & 255, 0, 255]),
    n % 11 === 0 ? '0000-00-00' : '2024-02-29',
    '2024-02-29 23:59:59.999999',
    '12:34:56.5',
    `{"n": ${n}, "s": "x\\"y"}`,
  ];
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');

describe('RowEncoder.writeRows', () => {
  test('the chunks hold exactly the lines encode gives, cut only at line ends', () => {
    const rows = Array.from({ length: 3000 }, (_, n) => wideRow(n));
    const single = new RowEncoder(WIDE);
    const byRow = rows.map((row) => single.encode(row)).join('');
    const chunked = new RowEncoder(WIDE, 4096);
    const chunks: Buffer[] = [];
    for (let i = 0; i < rows.length; i += 512) {
      chunked.writeRows(rows.slice(i, i + 512));
      chunks.push(...chunked.takeChunks());
    }
    const complete = chunks.length;
    chunks.push(...chunked.takeRest());
    expect(complete).toBeGreaterThan(10);
    for (const chunk of chunks) expect(chunk[chunk.length - 1]).toBe(0x0a);
    expect(text(chunks)).toBe(byRow);
    expect(chunked.nulledValues).toEqual({ day: Math.ceil(3000 / 11) });
  });

  test('every value reads back as it went in', () => {
    const rows = Array.from({ length: 50 }, (_, n) => wideRow(n));
    const enc = new RowEncoder(WIDE);
    enc.writeRows(rows);
    const lines = text(enc.takeRest()).split('\n');
    expect(lines.pop()).toBe('');
    lines.forEach((line, n) => {
      const row = JSON.parse(line);
      const raw = wideRow(n);
      expect(row.id).toBe(n);
      expect(row.amount).toBe(raw[1]);
      expect(row.ratio).toBe(n % 7 === 0 ? 'NaN' : n / 3);
      expect(row.flag).toBe(n % 2 === 1);
      expect(row.note).toBe(raw[4] ?? undefined);
      expect(Buffer.from(row.blob, 'base64').equals(raw[5] as Buffer)).toBe(true);
      expect(row.day).toBe(n % 11 === 0 ? undefined : '2024-02-29');
      expect(row.at).toBe('2024-02-29 23:59:59.999999+00:00');
      expect(row.clock).toBe('12:34:56.5');
      expect(row.doc).toEqual({ n, s: 'x"y' });
    });
  });

  test('a string column gives the bytes of JSON.stringify, from text and from UTF-8 bytes alike', () => {
    const values = ['', 'a "b" \\ c', 'ctl \u0000\u0007\u001f', '日本語 🚀 😀', 'x\u2028y', 'é'.repeat(1000)];
    for (const v of values) {
      const expected = `${JSON.stringify({ s: v })}\n`;
      expect(new RowEncoder([column('s', { kind: 'string' })]).encode([v])).toBe(expected);
      expect(new RowEncoder([column('s', { kind: 'string' })]).encode([Buffer.from(v, 'utf8')])).toBe(expected);
    }
    // Invalid UTF-8 reads as U+FFFD, as decoding the bytes would.
    const invalid = Buffer.from([0x61, 0xff, 0x22, 0xc3]);
    expect(new RowEncoder([column('s', { kind: 'string' })]).encode([invalid])).toBe(`${JSON.stringify({ s: invalid.toString('utf8') })}\n`);
  });

  test('a line longer than the chunk and its room is written whole', () => {
    const long = 'x"\n🚀'.repeat(100_000);
    const enc = new RowEncoder([column('id', { kind: 'integer' }), column('s', { kind: 'string' })], 1024);
    enc.writeRows([['1', 'short'], ['2', long], ['3', 'after']]);
    const lines = text(enc.takeRest()).split('\n');
    expect(lines.map((l) => (l ? JSON.parse(l) : l))).toEqual([{ id: 1, s: 'short' }, { id: 2, s: long }, { id: 3, s: 'after' }, '']);
  });

  test('a column rule\'s result is written as a JSON string; NULLs stay out of the line', () => {
    const enc = new RowEncoder([column('id', { kind: 'integer' }), column('email', { kind: 'string' }, (v) => `masked "${String(v).length}"\n`)]);
    expect(enc.encode(['7', 'a@b.c'])).toBe(`${JSON.stringify({ id: 7, email: 'masked "5"\n' })}\n`);
    expect(enc.encode([null, null])).toBe('{}\n');
    expect(enc.encode([null, 'x'])).toBe(`${JSON.stringify({ email: 'masked "1"\n' })}\n`);
  });
});
