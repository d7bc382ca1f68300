import { createHash } from 'node:crypto';
import { diffLeaf, differingChildren, indivisible, RANGE_FANOUT, splitSegment, wholeTable } from '../../common/bisection';
import { bucketSql, leafSql } from '../../common/checksum-query';
import type { BucketQuery, CheckedKey, ComparedColumn, ContentSide, LeafRow, Segment } from '../../common/content-checksum';
import { compareContent, describeDifferences } from '../../common/content-compare';
import { mysqlChecksumDialect } from '../../sources/mysql/checksum-sql';
import { postgresChecksumDialect } from '../../sources/postgres/checksum-sql';
import { bigQueryChecksumDialect } from '../../bigquery/checksum-sql';
import { verifyTableContent, VerifyTarget } from '../../activities/table-sync/verify-content';
import type { TableTask } from '../../common/payloads';
import type { SourceConnection } from '../../sources/driver';

/*
 * The pure parts of content verification: the bisection planner, driven here by sides that
 * hold a table in memory (the real databases and the emulator run the same planner in
 * test/integration/verify-content.test.ts), and the SQL the canonical-text builders make.
 */

describe('splitting', () => {
  test('a key range splits into contiguous children that cover it exactly, up to the int64 ends', () => {
    const whole: Segment = { kind: 'range', lo: '-9223372036854775808', hi: '9223372036854775807' };
    const children = splitSegment(whole) as { lo: string; hi: string }[];
    expect(children).toHaveLength(RANGE_FANOUT);
    expect(children[0].lo).toBe(whole.lo);
    expect(children.at(-1)!.hi).toBe(whole.hi);
    for (let i = 1; i < children.length; i++) expect(BigInt(children[i].lo)).toBe(BigInt(children[i - 1].hi) + 1n);
  });

  test('a narrow range splits into single keys, which cannot be split further', () => {
    const children = splitSegment({ kind: 'range', lo: '5', hi: '7' });
    expect(children).toEqual([
      { kind: 'range', lo: '5', hi: '5' },
      { kind: 'range', lo: '6', hi: '6' },
      { kind: 'range', lo: '7', hi: '7' },
    ]);
    expect(indivisible(children[0])).toBe(true);
  });

  test('a hash prefix splits into its 16 longer prefixes', () => {
    const children = splitSegment({ kind: 'hash', prefix: 'a' }) as { prefix: string }[];
    expect(children.map((c) => c.prefix)).toEqual([...'0123456789abcdef'].map((d) => `a${d}`));
    expect(indivisible({ kind: 'hash', prefix: 'f'.repeat(32) })).toBe(true);
  });

  test('the whole table spans both sides\' keys; empty on both sides is nothing to compare', () => {
    expect(wholeTable('range', [{ min: '3', max: '10' }, { min: '1', max: '8' }])).toEqual({ kind: 'range', lo: '1', hi: '10' });
    expect(wholeTable('range', [undefined, { min: '2', max: '2' }])).toEqual({ kind: 'range', lo: '2', hi: '2' });
    expect(wholeTable('range', [undefined, undefined])).toBeUndefined();
  });
});

describe('comparing checksums', () => {
  const query: BucketQuery = { within: { kind: 'range', lo: '1', hi: '3' }, children: splitSegment({ kind: 'range', lo: '1', hi: '3' }) };

  test('children differ by rows or sums; a child one side lacks is empty there; printed sums compare as integers', () => {
    const source = [
      { child: 0, rows: 1, sumA: '10', sumB: '20' },
      { child: 1, rows: 1, sumA: '5', sumB: '6' },
      { child: 2, rows: 1, sumA: '7', sumB: '8' },
    ];
    const bigQuery = [
      { child: 0, rows: 1, sumA: '10.0', sumB: '20' },
      { child: 1, rows: 1, sumA: '5', sumB: '7' },
    ];
    expect(differingChildren(query, source, bigQuery).map((d) => [d.segment, d.sourceRows, d.bigQueryRows])).toEqual([
      [query.children[1], 1, 1],
      [query.children[2], 1, 0],
    ]);
  });

  test('row by row: missing, extra, duplicated and changed keys, with the columns that changed', () => {
    const row = (key: string, ...columnHashes: string[]): LeafRow => ({ key: [key], columnHashes });
    const diff = diffLeaf(
      [row('1', 'a', 'b'), row('2', 'a', 'b'), row('3', 'a', 'b'), row('10', 'a', '-')],
      [row('1', 'a', 'b'), row('3', 'x', 'b'), row('3', 'x', 'b'), row('4', 'a', 'b'), row('10', 'a', 'b')],
      ['name', 'price'],
    );
    expect(diff).toEqual({
      missing: [{ key: ['2'] }],
      extra: [{ key: ['3'], copies: 2 }, { key: ['4'] }],
      changed: [{ key: ['3'], columns: ['name'] }, { key: ['10'], columns: ['price'] }],
    });
    expect(describeDifferences({ missing: { count: 1, keys: diff.missing }, extra: { count: 2, keys: diff.extra }, changed: { count: 2, keys: diff.changed }, incomplete: false }))
      .toBe('1 missing in BigQuery: 2; 2 extra in BigQuery: 3 x2, 4; 2 changed: 3 [name], 10 [price]');
  });
});

/** A side that holds a table in memory: key -> column hashes, and answers as a database would. */
function memorySide(rows: Map<number, string[]>, calls: { leafRows: number }): ContentSide {
  const within = (s: Segment, k: number) => s.kind === 'range' && Number(s.lo) <= k && k <= Number(s.hi);
  const cache = new Map<number, bigint[]>();
  const pieces = (k: number, hashes: string[]) => {
    if (!cache.has(k)) {
      const h = createHash('md5').update(hashes.join('')).digest('hex');
      cache.set(k, [BigInt(`0x${h.slice(0, 8)}`), BigInt(`0x${h.slice(8, 16)}`)]);
    }
    return cache.get(k)!;
  };
  return {
    async keyRange() {
      const keys = [...rows.keys()];
      return keys.length ? { min: String(Math.min(...keys)), max: String(Math.max(...keys)) } : undefined;
    },
    async buckets(query) {
      const sums = new Map<number, { rows: number; a: bigint; b: bigint }>();
      for (const [k, hashes] of rows) {
        if (!within(query.within, k)) continue;
        const child = query.children.findIndex((c) => within(c, k));
        if (child < 0) continue;
        const s = sums.get(child) ?? { rows: 0, a: 0n, b: 0n };
        const [a, b] = pieces(k, hashes);
        sums.set(child, { rows: s.rows + 1, a: s.a + a, b: s.b + b });
      }
      return [...sums].map(([child, s]) => ({ child, rows: s.rows, sumA: String(s.a), sumB: String(s.b) }));
    },
    async leafRows(segment) {
      const found = [...rows].filter(([k]) => within(segment, k));
      calls.leafRows += found.length;
      return found.map(([k, columnHashes]) => ({ key: [String(k)], columnHashes }));
    },
  };
}

test('the planner finds each difference in a 20,000-row table, reading few rows row by row', async () => {
  const source = new Map<number, string[]>();
  for (let k = 1; k <= 20_000; k++) source.set(k, [`h${k}`, 'x']);
  const bigQuery = new Map(source);
  bigQuery.delete(500);
  bigQuery.set(7_001, ['changed', 'x']);
  bigQuery.set(20_005, ['h', 'x']);
  const calls = { leafRows: 0 };
  const report = await compareContent(memorySide(source, calls), memorySide(bigQuery, calls), { split: 'range', columns: ['name', 'flag'] });
  expect(report.missing).toEqual({ count: 1, keys: [{ key: ['500'] }] });
  expect(report.extra).toEqual({ count: 1, keys: [{ key: ['20005'] }] });
  expect(report.changed).toEqual({ count: 1, keys: [{ key: ['7001'], columns: ['name'] }] });
  expect(report.rows).toBe(20_000);
  expect(report.incomplete).toBe(false);
  // Three small ranges on two sides, not the table.
  expect(calls.leafRows).toBeLessThan(6 * 256);
});

test('a table that matches takes one checksum query per side', async () => {
  const rows = new Map([...Array(5000).keys()].map((k) => [k + 1, [`v${k}`]]));
  const report = await compareContent(memorySide(rows, { leafRows: 0 }), memorySide(new Map(rows), { leafRows: 0 }), { split: 'range', columns: ['v'] });
  expect([report.queries, report.leafRanges, report.missing.count + report.extra.count + report.changed.count]).toEqual([1, 0, 0]);
});

describe('the canonical-text builders', () => {
  const col = (name: string, kind: ComparedColumn['kind'], bigQueryType: string, extra: Partial<ComparedColumn> = {}): ComparedColumn => ({
    name,
    kind,
    bigQueryType,
    compareAs: 'value',
    ...extra,
  });
  const key: CheckedKey = { columns: [col('id', 'integer', 'INT64', { wholeNumber: true })], numeric: true };
  const dialects = {
    mysql: mysqlChecksumDialect('shop', 'orders'),
    postgres: postgresChecksumDialect('public', 'orders'),
    bigquery: bigQueryChecksumDialect('p', 'shop', 'orders'),
  };

  test.each([
    ['decimal', col('d', 'decimal', 'NUMERIC'), [/TRIM\(TRAILING '0'/, /rtrim\(rtrim\(/, /RTRIM\(RTRIM\(/]],
    ['datetime', col('t', 'datetime', 'DATETIME'), [/%Y-%m-%d %H:%i:%s\.%f/, /YYYY-MM-DD HH24:MI:SS\.US/, /%H:%M:%E6S/]],
    ['timestamp', col('t', 'timestamp', 'TIMESTAMP'), [/%Y-%m-%d %H:%i:%s\.%f/, /YYYY-MM-DD HH24:MI:SS\.US/, /'UTC'/]],
    ['bytes', col('b', 'bytes', 'BYTES'), [/LOWER\(HEX\(/, /encode\(.*'hex'\)/, /TO_HEX\(/]],
    ['json', col('j', 'json', 'JSON'), [/JSON_KEYS\(/, /jsonb_object_keys\(/, /JSON_KEYS\(/]],
    ['string', col('s', 'string', 'STRING'), [/CONVERT\(`s` USING utf8mb4\)/, /concat\("s"\)/, /`s`/]],
  ])('%s: each engine writes the canonical text its own way', (_, column, [my, pg, bq]) => {
    expect(dialects.mysql.canonical(column, '`x`'.replace('x', column.name))).toMatch(my);
    expect(dialects.postgres.canonical(column, `"${column.name}"`)).toMatch(pg);
    expect(dialects.bigquery.canonical(column, `\`${column.name}\``)).toMatch(bq);
  });

  test('values reach the queries as parameters, never in the SQL text', () => {
    const query: BucketQuery = { within: { kind: 'range', lo: '-42', hi: '1000042' }, children: splitSegment({ kind: 'range', lo: '-42', hi: '1000042' }) };
    for (const d of Object.values(dialects)) {
      const sql = bucketSql(d, key, [col('name', 'string', 'STRING')], query);
      expect(sql.text).not.toMatch(/1000042|-42/);
      expect(sql.params).toContain('1000042');
      const leaf = leafSql(d, key, [col('name', 'string', 'STRING')], { kind: 'hash', prefix: 'ab' });
      expect(leaf.text).not.toContain("'ab'");
      expect(leaf.params).toEqual(['ab']);
    }
  });

  test('NULL and a value compared by NULL-ness only hash to fixed marks, not to an MD5', () => {
    const sql = leafSql(dialects.postgres, key, [col('secret', 'string', 'STRING', { compareAs: 'nullness' })], { kind: 'range', lo: '1', hi: '2' });
    expect(sql.text).toContain(`CASE WHEN "secret" IS NULL THEN '-' ELSE 'v' END`);
  });
});

describe('tables compared by count only', () => {
  test('a table that loads a where: slice is not compared by content, and the result says why', async () => {
    const task = { key: 'shop.events', table: 'events', where: 'created_at >= {{session_date}}' } as TableTask;
    // Neither side is asked anything: the source would hold the whole table, BigQuery the slice.
    const result = await verifyTableContent(task, [], {} as SourceConnection, {} as VerifyTarget);
    expect(result).toEqual({ skipped: 'the table loads a where: slice and content is compared for whole tables: only the row count was compared' });
  });
});
