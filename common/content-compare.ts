import { compareKeys, DifferingSegment, diffLeaf, differingChildren, smallEnough, splitSegment, wholeTable } from './bisection';
import type { ContentReport, ContentSide, DifferingKey, Segment } from './content-checksum';

export interface CompareOptions {
  split: 'range' | 'hash';
  /** Compared column names, in the order of the sides' column hashes. */
  columns: string[];
  /** A differing segment with at most this many rows on each side is compared row by row. */
  leafRows?: number;
  /** At most this many differing segments are followed per level; more, and the report says it is incomplete. */
  maxSegments?: number;
  /** Keys named per kind of difference, the lowest first (the counts cover all that were found). */
  keysShown?: number;
  onProgress?: (p: { level: number; segments: number; differing: number }) => void;
}

const DEFAULTS = { leafRows: 256, maxSegments: 64, keysShown: 20 };

/**
 * Compares a table's content on two sides: checksums per segment, computed by each database,
 * then the segments that differ are split again until they are small, and those are compared
 * by key. Only keys, counts and column names come back.
 */
export async function compareContent(
  source: ContentSide,
  bigQuery: ContentSide,
  options: CompareOptions,
): Promise<Omit<ContentReport, 'bytesScanned' | 'seconds' | 'nullnessOnly' | 'notCompared'>> {
  const opts = { ...DEFAULTS, ...options };
  const report: Omit<ContentReport, 'bytesScanned' | 'seconds' | 'nullnessOnly' | 'notCompared'> = {
    rows: 0,
    bigQueryRows: 0,
    queries: 0,
    ranges: 0,
    leafRanges: 0,
    split: opts.split,
    missing: { count: 0, keys: [] },
    extra: { count: 0, keys: [] },
    changed: { count: 0, keys: [] },
    incomplete: false,
  };
  const ranges = opts.split === 'range' ? await Promise.all([source.keyRange(), bigQuery.keyRange()]) : [];
  const whole = wholeTable(opts.split, ranges);
  if (!whole) return report; // both sides empty
  let pending: Segment[] = [whole];
  for (let level = 0; pending.length > 0; level++) {
    const differing: DifferingSegment[] = [];
    for (const within of pending) {
      const query = { within, children: splitSegment(within) };
      const [s, b] = await Promise.all([source.buckets(query), bigQuery.buckets(query)]);
      report.queries++;
      report.ranges += query.children.length;
      if (level === 0) {
        report.rows = s.reduce((n, x) => n + x.rows, 0);
        report.bigQueryRows = b.reduce((n, x) => n + x.rows, 0);
      }
      differing.push(...differingChildren(query, s, b));
    }
    opts.onProgress?.({ level, segments: pending.length, differing: differing.length });
    const followed = differing.slice(0, opts.maxSegments);
    if (differing.length > followed.length) report.incomplete = true;
    pending = [];
    for (const d of followed) {
      if (!smallEnough(d, opts.leafRows)) {
        pending.push(d.segment);
        continue;
      }
      const [s, b] = await Promise.all([source.leafRows(d.segment), bigQuery.leafRows(d.segment)]);
      report.leafRanges++;
      const diff = diffLeaf(s, b, opts.columns);
      add(report.missing, diff.missing);
      add(report.extra, diff.extra);
      add(report.changed, diff.changed);
    }
  }
  // The lowest keys are named, whichever level of the search found them.
  for (const d of [report.missing, report.extra, report.changed]) d.keys = d.keys.sort((a, b) => compareKeys(a.key, b.key)).slice(0, opts.keysShown);
  return report;
}

/** Keys kept while searching, before the lowest are picked: bounded, however much differs. */
const KEYS_KEPT = 10_000;

function add(into: { count: number; keys: DifferingKey[] }, found: DifferingKey[]): void {
  into.count += found.length;
  into.keys.push(...found.slice(0, Math.max(0, KEYS_KEPT - into.keys.length)));
}

/** The differences in one line, keys and column names only, e.g. for a failure message. */
export function describeDifferences(r: Pick<ContentReport, 'missing' | 'extra' | 'changed' | 'incomplete'>): string {
  const keyText = (k: DifferingKey) =>
    (k.key.length === 1 ? k.key[0] : `(${k.key.join(', ')})`) +
    (k.columns ? ` [${k.columns.join(', ')}]` : '') +
    (k.copies ? ` x${k.copies}` : '');
  const part = (what: string, d: { count: number; keys: DifferingKey[] }) =>
    d.count === 0 ? [] : [`${d.count} ${what}: ${d.keys.map(keyText).join(', ')}${d.count > d.keys.length ? ', ...' : ''}`];
  const parts = [...part('missing in BigQuery', r.missing), ...part('extra in BigQuery', r.extra), ...part('changed', r.changed)];
  if (r.incomplete) parts.push('more differing key ranges than followed (counts are lower bounds)');
  return parts.join('; ');
}
