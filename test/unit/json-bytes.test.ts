import { MAX_JSON_BYTES_PER_UNIT, writeJsonString, writeJsonStringOfUtf8, writeText } from '../../bigquery/json-bytes';

/** What a writer put into a buffer of the room its caller would make. */
function written(write: (buf: Buffer, pos: number) => number, units: number): Buffer {
  // Filled with a marker and started past 0: a writer must stay inside its room and position.
  const buf = Buffer.alloc(3 + MAX_JSON_BYTES_PER_UNIT * units + 2, 0xaa);
  const end = write(buf, 3);
  expect(end).toBeLessThanOrEqual(buf.length);
  return buf.subarray(3, end);
}

const asJson = (s: string) => written((buf, pos) => writeJsonString(buf, pos, s), s.length);
const asText = (s: string) => written((buf, pos) => writeText(buf, pos, s), s.length);
const asJsonOfUtf8 = (b: Buffer) => written((buf, pos) => writeJsonStringOfUtf8(buf, pos, b), b.length);

// Every case both ways: the writers must give exactly the bytes of JSON.stringify / Buffer.from.
const STRINGS: [string, string][] = [
  ['empty', ''],
  ['plain ASCII', 'value 123 of column 3'],
  ['quotes and backslashes', 'say "hi" \\ C:\\path\\'],
  ['every control character', Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).join('')],
  ['DEL, which JSON leaves as it is', 'a\u007fb'],
  ['two-byte UTF-8', 'café Ærø ñ'],
  ['three-byte UTF-8', '日本語のテキスト €'],
  ['U+2028 and U+2029, valid in JSON strings', 'line\u2028para\u2029end'],
  ['four-byte UTF-8 (surrogate pairs)', 'rocket 🚀 and 𝄞 and 😀😀'],
  ['a lone high surrogate', 'a\ud800b'],
  ['a lone low surrogate', 'a\udc00b'],
  ['a high surrogate at the end', 'end\ud83d'],
  ['a low surrogate before a high one', '\ude80\ud83d'],
  ['two high surrogates then a low one', '\ud83d\ud83d\ude80'],
  ['U+FFFD and U+FFFF', '\ufffd\uffff'],
  ['escapes after non-ASCII', 'é"\n\t\u0001🚀\\'],
  ['a long line of ASCII', 'x'.repeat(100_000)],
  ['a long line with a quote at its end', `${'x'.repeat(300)}"`],
  ['a long line with a control character at its start', `\u0000${'x'.repeat(300)}`],
  ['a long line with a lone surrogate at its end', `${'x'.repeat(300)}\udbff`],
  ['a long line with U+FFFD itself', `${'x'.repeat(300)}\ufffd${'y'.repeat(30)}`],
  ['a long line of four-byte characters', '🚀'.repeat(500)],
  ['a long line of fullwidth forms (UTF-8 EF BC / EF BD)', 'ＡＢＣ１２３（）'.repeat(20)],
  ['a long line with a lone surrogate after fullwidth forms', `${'ｱｲｳ'.repeat(20)}\udc00`],
];

describe('JSON strings written as bytes', () => {
  test.each(STRINGS)('%s: the bytes of JSON.stringify', (_name, s) => {
    expect(asJson(s).equals(Buffer.from(JSON.stringify(s), 'utf8'))).toBe(true);
  });

  test.each(STRINGS)('%s: as text, the bytes of Buffer.from', (_name, s) => {
    expect(asText(s).equals(Buffer.from(s, 'utf8'))).toBe(true);
  });

  // Short and long texts take different paths (a loop, a native copy): both, for every unit.
  test.each([
    ['short texts', 0x10],
    ['long texts', 0x100],
  ])('every UTF-16 unit, each between ASCII (so that every surrogate stays alone), in %s', (_name, units) => {
    for (let block = 0; block < 0x10000; block += units) {
      const s = Array.from({ length: units }, (_, k) => `a${String.fromCharCode(block + k)}`).join('') + 'b';
      if (!asJson(s).equals(Buffer.from(JSON.stringify(s), 'utf8'))) throw new Error(`JSON of U+${block.toString(16)}.. differs`);
      if (!asText(s).equals(Buffer.from(s, 'utf8'))) throw new Error(`text of U+${block.toString(16)}.. differs`);
    }
  });

  test('the written JSON reads back as the same string', () => {
    for (const [, s] of STRINGS) {
      // A lone surrogate reads back as itself: JSON.stringify escapes it, and so do the writers.
      expect(JSON.parse(asJson(s).toString('utf8'))).toBe(s);
    }
  });
});

describe('UTF-8 bytes written as a JSON string', () => {
  test.each(STRINGS)('%s: as JSON.stringify of the decoded text', (_name, s) => {
    const bytes = Buffer.from(s, 'utf8');
    expect(asJsonOfUtf8(bytes).equals(Buffer.from(JSON.stringify(bytes.toString('utf8')), 'utf8'))).toBe(true);
  });

  test('invalid UTF-8 becomes U+FFFD, as decoding it would', () => {
    const cases = [
      Buffer.from([0x61, 0xff, 0x62]), // a byte that never starts a character
      Buffer.from([0xc3]), // a sequence cut short
      Buffer.from([0xe2, 0x82, 0x22]), // cut short by a quote
      Buffer.from([0xed, 0xa0, 0x80]), // an encoded surrogate
      Buffer.from([0xf0, 0x9f, 0x9a]), // four bytes cut to three
      Buffer.from([0xc0, 0xaf]), // overlong
    ];
    for (const bytes of cases) {
      expect(asJsonOfUtf8(bytes).equals(Buffer.from(JSON.stringify(bytes.toString('utf8')), 'utf8'))).toBe(true);
    }
  });
});
