import type { BucketQuery, CheckedKey, ComparedColumn, Segment } from './content-checksum';

/**
 * The checksum queries of content verification, the same on every engine; each engine gives
 * its dialect (sources/<engine>/checksum-sql.ts, bigquery/checksum-sql.ts): the canonical
 * text of each type, MD5, quoting and placeholders. Values are parameters, never spliced in.
 */
export interface ChecksumDialect {
  /** The table, quoted and qualified. */
  table: string;
  quote(identifier: string): string;
  /** The column as read (a driver's read expression, or the quoted name). */
  ref(column: ComparedColumn): string;
  /** The canonical text of the column's value; NULL where the destination holds NULL. */
  canonical(column: ComparedColumn, ref: string): string;
  /** The column's text masked as the column rules mask it (sources; BigQuery holds the masked text, and returns the column). */
  masked(ref: string): string;
  /** The length of the text in UTF-8 bytes, as text. */
  byteLength(text: string): string;
  /** MD5 of the text's UTF-8 bytes, as 32 lower-case hex digits. */
  md5Hex(text: string): string;
  concat(parts: string[]): string;
  /** The first `length` characters of a text. */
  prefix(text: string, length: number): string;
  /** 8 hex digits of `hex` from 1-based position `from`, as an unsigned integer. */
  hexPiece(hex: string, from: number): string;
  /** An integer or aggregate as text. */
  asText(expr: string): string;
  /** Placeholder number `index` (1-based) of a parameter. */
  placeholder(index: number): string;
  /** A parameter that holds a key value, as the key column's own type (so that an index applies). */
  keyValue(placeholder: string, column: ComparedColumn): string;
}

export interface ChecksumSql {
  text: string;
  params: string[];
}

/** The hash of one column: MD5 of its canonical text; `-` for NULL; `v` for a value compared by nullness only. */
function columnHash(d: ChecksumDialect, c: ComparedColumn): string {
  const ref = d.ref(c);
  if (c.compareAs === 'nullness') return `CASE WHEN ${ref} IS NULL THEN '-' ELSE 'v' END`;
  // A masked column: the source's own text masked as the worker masks it; BigQuery's as held.
  const text = c.compareAs === 'mask' ? d.masked(ref) : d.canonical(c, ref);
  return `COALESCE(${d.md5Hex(text)}, '-')`;
}

/**
 * A column's part of the row hash: its canonical text behind its length in bytes, so that no
 * two rows' texts run together alike; `-` for NULL, `v` for a value compared by nullness only.
 * One MD5 per row, not one per column: the checksum pass is bound by hashing.
 */
function rowPart(d: ChecksumDialect, c: ComparedColumn): string {
  const ref = d.ref(c);
  if (c.compareAs === 'nullness') return `CASE WHEN ${ref} IS NULL THEN '-' ELSE 'v' END`;
  const text = c.compareAs === 'mask' ? d.masked(ref) : d.canonical(c, ref);
  return `COALESCE(${d.concat([d.byteLength(text), "':'", text])}, '-')`;
}

const rowHash = (d: ChecksumDialect, columns: ComparedColumn[]) => d.md5Hex(d.concat(columns.map((c) => rowPart(d, c))));
const keyHash = (d: ChecksumDialect, key: CheckedKey) => d.md5Hex(d.concat(key.columns.map((c) => rowPart(d, { ...c, compareAs: 'value' }))));

class Params {
  readonly values: string[] = [];
  constructor(private readonly d: ChecksumDialect) {}
  add(value: string): string {
    this.values.push(value);
    return this.d.placeholder(this.values.length);
  }
}

/** The rows of a segment: a key range on the key column itself (an index applies), or a key hash prefix. */
function segmentFilter(d: ChecksumDialect, key: CheckedKey, segment: Segment, params: Params, hashAlias: string): string {
  if (segment.kind === 'range') {
    const k = d.quote(key.columns[0].name);
    const lo = d.keyValue(params.add(segment.lo), key.columns[0]);
    const hi = d.keyValue(params.add(segment.hi), key.columns[0]);
    return `${k} >= ${lo} AND ${k} <= ${hi}`;
  }
  return segment.prefix === '' ? '1 = 1' : `${d.prefix(hashAlias, segment.prefix.length)} = ${params.add(segment.prefix)}`;
}

/** Per child of the query's segment: rows, and the sums of two 32-bit pieces of the row hashes. */
export function bucketSql(d: ChecksumDialect, key: CheckedKey, columns: ComparedColumn[], query: BucketQuery): ChecksumSql {
  const params = new Params(d);
  const within = query.within;
  let label: string;
  let inner: string;
  let outerWhere = '';
  if (within.kind === 'range') {
    const k = d.quote(key.columns[0].name);
    const whens = query.children
      .slice(0, -1)
      .map((c, i) => `WHEN ${k} <= ${d.keyValue(params.add((c as { hi: string }).hi), key.columns[0])} THEN ${i}`);
    label = whens.length ? `CASE ${whens.join(' ')} ELSE ${query.children.length - 1} END` : '0';
    inner = `SELECT ${label} AS b, ${rowHash(d, columns)} AS rh FROM ${d.table} WHERE ${segmentFilter(d, key, within, params, '')}`;
  } else {
    // Children are the prefixes one hex digit longer: the digit is the label.
    const digit = `${d.prefix('kh', within.prefix.length + 1)}`;
    inner = `SELECT ${keyHash(d, key)} AS kh, ${rowHash(d, columns)} AS rh FROM ${d.table}`;
    if (within.prefix !== '') outerWhere = ` WHERE ${segmentFilter(d, key, within, params, 'kh')}`;
    label = digit;
  }
  const b = within.kind === 'range' ? 'b' : label;
  const text =
    `SELECT ${d.asText(within.kind === 'range' ? 'b' : label)} AS b, ${d.asText('COUNT(*)')} AS n, ` +
    `${d.asText(`SUM(${d.hexPiece('rh', 1)})`)} AS sa, ${d.asText(`SUM(${d.hexPiece('rh', 9)})`)} AS sb ` +
    `FROM (${inner}) s${outerWhere} GROUP BY ${b}`;
  return { text, params: params.values };
}

/** The label of a bucket row as the index of its child in the query. */
export function childIndex(query: BucketQuery, label: string): number {
  if (query.within.kind === 'range') return Number(label);
  return query.children.findIndex((c) => c.kind === 'hash' && c.prefix === label);
}

/** Every row of a (small) segment: the key's canonical text, then each compared column's hash. */
export function leafSql(d: ChecksumDialect, key: CheckedKey, columns: ComparedColumn[], segment: Segment): ChecksumSql {
  const params = new Params(d);
  const keys = key.columns.map((c, i) => `${d.canonical(c, d.ref(c))} AS k${i}`);
  const hashes = columns.map((c, i) => `${columnHash(d, c)} AS h${i}`);
  const select = [...keys, ...hashes].join(', ');
  if (segment.kind === 'range') {
    return { text: `SELECT ${select} FROM ${d.table} WHERE ${segmentFilter(d, key, segment, params, '')}`, params: params.values };
  }
  const outer = [...key.columns.map((_, i) => `k${i}`), ...columns.map((_, i) => `h${i}`)].join(', ');
  const text = `SELECT ${outer} FROM (SELECT ${select}, ${keyHash(d, key)} AS kh FROM ${d.table}) s WHERE ${segmentFilter(d, key, segment, params, 'kh')}`;
  return { text, params: params.values };
}

/** Lowest and highest value of the numeric key column, as text. */
export function keyRangeSql(d: ChecksumDialect, key: CheckedKey): ChecksumSql {
  const k = d.quote(key.columns[0].name);
  return { text: `SELECT ${d.asText(`MIN(${k})`)} AS lo, ${d.asText(`MAX(${k})`)} AS hi FROM ${d.table}`, params: [] };
}
