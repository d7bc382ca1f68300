import type { BucketQuery, BucketSum, DifferingKey, LeafRow, Segment } from './content-checksum';

/**
 * The pure part of content verification: how a piece of a table is split, which pieces
 * differ, when a piece is small enough to compare row by row, and what a row-by-row
 * comparison finds. No I/O: the sides' queries are run by content-compare.ts.
 */

/** Children per split of a numeric key range. */
export const RANGE_FANOUT = 16;
const HEX = '0123456789abcdef';
/** A key hash has 32 hex digits: a prefix this long cannot be split further. */
const FULL_HASH = 32;

/** The segment that holds every row: the keys of both sides from the lowest to the highest, or every hash. */
export function wholeTable(split: 'range' | 'hash', ranges: ({ min: string; max: string } | undefined)[]): Segment | undefined {
  if (split === 'hash') return { kind: 'hash', prefix: '' };
  const known = ranges.filter((r): r is { min: string; max: string } => r !== undefined);
  if (known.length === 0) return undefined;
  const lo = known.map((r) => BigInt(r.min)).reduce((a, b) => (b < a ? b : a));
  const hi = known.map((r) => BigInt(r.max)).reduce((a, b) => (b > a ? b : a));
  return { kind: 'range', lo: String(lo), hi: String(hi) };
}

/**
 * Splits a segment into children that cover it exactly: a key range into up to RANGE_FANOUT
 * ranges of (nearly) equal width, a hash prefix into its 16 longer prefixes.
 */
export function splitSegment(segment: Segment): Segment[] {
  if (segment.kind === 'hash') return [...HEX].map((d) => ({ kind: 'hash', prefix: segment.prefix + d }));
  const lo = BigInt(segment.lo);
  const hi = BigInt(segment.hi);
  const width = hi - lo + 1n;
  const parts = width < BigInt(RANGE_FANOUT) ? width : BigInt(RANGE_FANOUT);
  const children: Segment[] = [];
  let start = lo;
  for (let i = 0n; i < parts; i++) {
    // The first `width % parts` children take one key more, so that the ends meet exactly.
    const size = width / parts + (i < width % parts ? 1n : 0n);
    children.push({ kind: 'range', lo: String(start), hi: String(start + size - 1n) });
    start += size;
  }
  return children;
}

/** A segment that cannot be split further: one key, or a whole key hash. */
export function indivisible(segment: Segment): boolean {
  return segment.kind === 'range' ? segment.lo === segment.hi : segment.prefix.length >= FULL_HASH;
}

export interface DifferingSegment {
  segment: Segment;
  /** Rows in the segment on the source and in BigQuery. */
  sourceRows: number;
  bigQueryRows: number;
}

/** The children whose row count or hash sums differ between the two sides. */
export function differingChildren(query: BucketQuery, source: BucketSum[], bigQuery: BucketSum[]): DifferingSegment[] {
  const empty = { rows: 0, sumA: '0', sumB: '0' };
  const bySource = new Map(source.map((b) => [b.child, b]));
  const byBigQuery = new Map(bigQuery.map((b) => [b.child, b]));
  const differing: DifferingSegment[] = [];
  query.children.forEach((segment, child) => {
    const s = bySource.get(child) ?? empty;
    const b = byBigQuery.get(child) ?? empty;
    // Sums compared as integers: engines may print them with or without a trailing ".0".
    if (s.rows === b.rows && sameSum(s.sumA, b.sumA) && sameSum(s.sumB, b.sumB)) return;
    differing.push({ segment, sourceRows: s.rows, bigQueryRows: b.rows });
  });
  return differing;
}

function sameSum(a: string, b: string): boolean {
  return BigInt(a.replace(/\.0*$/, '')) === BigInt(b.replace(/\.0*$/, ''));
}

/** Small enough to fetch the keys and column hashes of both sides and compare them row by row. */
export function smallEnough(d: DifferingSegment, leafRows: number): boolean {
  return Math.max(d.sourceRows, d.bigQueryRows) <= leafRows || indivisible(d.segment);
}

export interface LeafDiff {
  missing: DifferingKey[];
  extra: DifferingKey[];
  changed: DifferingKey[];
}

/**
 * Compares the rows of one segment by key: keys only at the source are missing in BigQuery,
 * keys only in BigQuery (or there more than once) are extra, keys whose column hashes differ
 * changed, with the names of the columns that differ.
 */
export function diffLeaf(source: LeafRow[], bigQuery: LeafRow[], columns: string[]): LeafDiff {
  const id = (key: string[]) => JSON.stringify(key);
  const bySource = new Map(source.map((r) => [id(r.key), r]));
  const byBigQuery = new Map<string, { row: LeafRow; copies: number }>();
  for (const row of bigQuery) {
    const seen = byBigQuery.get(id(row.key));
    if (seen) seen.copies++;
    else byBigQuery.set(id(row.key), { row, copies: 1 });
  }
  const diff: LeafDiff = { missing: [], extra: [], changed: [] };
  for (const [k, row] of bySource) {
    const there = byBigQuery.get(k);
    if (!there) {
      diff.missing.push({ key: row.key });
      continue;
    }
    if (there.copies > 1) diff.extra.push({ key: row.key, copies: there.copies });
    const differs = columns.filter((_, i) => row.columnHashes[i] !== there.row.columnHashes[i]);
    if (differs.length > 0) diff.changed.push({ key: row.key, columns: differs });
  }
  for (const [k, there] of byBigQuery) {
    if (!bySource.has(k)) diff.extra.push({ key: there.row.key, ...(there.copies > 1 && { copies: there.copies }) });
  }
  const order = (a: DifferingKey, b: DifferingKey) => compareKeys(a.key, b.key);
  diff.missing.sort(order);
  diff.extra.sort(order);
  diff.changed.sort(order);
  return diff;
}

/** Keys in a stable order: numerically where both parts are integers, else as text. */
export function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const whole = /^-?\d+$/;
    if (whole.test(a[i]) && whole.test(b[i])) return BigInt(a[i]) < BigInt(b[i]) ? -1 : 1;
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}
