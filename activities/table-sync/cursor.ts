import type { BigQueryType } from '../../bigquery/types';
import { durationMs } from '../../common/duration';
import type { CursorStats } from '../../sources/driver';

/** BigQuery types a cursor column may have: they are ordered and grow with new rows. */
export const CURSOR_TYPES: BigQueryType[] = ['INT64', 'DATE', 'DATETIME', 'TIMESTAMP'];

/** Default overlap: time cursors re-read ten minutes, so that late commits are not missed. */
export const DEFAULT_TIME_OVERLAP = '10m';

/**
 * Default overlap of an integer cursor: the last 10,000 IDs are read again. Auto-increment
 * IDs are taken when a row is inserted but become visible when its transaction commits, so
 * an ID can appear after higher ones were loaded; 10,000 covers a transaction that commits
 * that many inserts late, and re-reading them costs an index range of 10,000 rows.
 */
export const DEFAULT_INTEGER_OVERLAP = 10_000;

/**
 * The lowest cursor value to read this run: the highest value already in BigQuery minus
 * the overlap, as text the source database compares with the column. Rounds down, so a
 * row is read once more rather than missed; the merge makes a re-read row harmless.
 *
 * `max` is the text BigQuery returned for MAX(cursor): digits for INT64, "2024-01-31" for
 * DATE, "2024-01-31T10:00:00.123456" for DATETIME and TIMESTAMP (UTC).
 */
export function cursorLowerBound(max: string, type: BigQueryType, overlap: string | number | undefined): string {
  if (type === 'INT64') {
    if (typeof overlap === 'string') throw new Error(`an integer cursor takes a number as overlap, not "${overlap}"`);
    return (BigInt(max) - BigInt(overlap ?? DEFAULT_INTEGER_OVERLAP)).toString();
  }
  if (typeof overlap === 'number') throw new Error(`a ${type} cursor takes a duration such as "10m" as overlap, not ${overlap}`);
  const back = durationMs(overlap ?? DEFAULT_TIME_OVERLAP);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?)?/.exec(max);
  if (!m) throw new Error(`cannot read "${max}" as a ${type} cursor value`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.floor(Number(`0${frac || '.0'}`) * 1000));
  const from = new Date(ms - back).toISOString(); // 2024-01-31T09:50:00.123Z
  if (type === 'DATE') return from.slice(0, 10);
  return `${from.slice(0, 10)} ${from.slice(11, 23)}`;
}

/** A cursor value as a number that orders like it: the integer, or microseconds since 1970 (UTC). */
function cursorOrder(value: string, type: BigQueryType): bigint {
  if (type === 'INT64') return BigInt(value);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?/.exec(value);
  if (!m) throw new Error(`cannot read "${value}" as a ${type} cursor value`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = ''] = m;
  return BigInt(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s)) * 1000n + BigInt(frac.padEnd(6, '0'));
}

/** The earliest of the values given (undefined ones left out), as it was given. */
export function earliestCursor(values: (string | undefined)[], type: BigQueryType): string | undefined {
  let earliest: string | undefined;
  for (const v of values) {
    if (v !== undefined && (earliest === undefined || cursorOrder(v, type) < cursorOrder(earliest, type))) earliest = v;
  }
  return earliest;
}

/**
 * The high-water mark of a read about to start, stored with its load for the next run: the
 * source's highest cursor value before the first row is read, never later than the source's
 * clock (a future-dated row must not become the mark). A row changed after this moment gets
 * a cursor value at or above it, whatever range it lies in.
 */
export function highWaterMark(stats: CursorStats, type: BigQueryType): string | undefined {
  return type === 'INT64' ? stats.max : earliestCursor([stats.max, stats.now], type);
}

export interface BoundInputs {
  type: BigQueryType;
  overlap: string | number | undefined;
  /** MAX(cursor) in the destination; undefined when no row there has a cursor. */
  destinationMax?: string;
  /** The high-water mark stored with the load that built the destination (the earliest if unsure). */
  mark?: string;
  /** Time cursors: the source's clock now. */
  sourceNow?: string;
}

/**
 * The lowest cursor value the next incremental read takes: the earliest of the destination's
 * MAX(cursor), the stored high-water mark and the source's clock, less the overlap. MAX alone
 * would skip a row changed in a key range read early in a long load, and one future-dated row
 * would freeze the table. Undefined (read every row) when the destination holds no cursor.
 */
export function nextLowerBound(i: BoundInputs): string | undefined {
  if (i.destinationMax === undefined) return undefined;
  const base = earliestCursor([i.destinationMax, i.mark, i.type === 'INT64' ? undefined : i.sourceNow], i.type)!;
  return cursorLowerBound(base, i.type, i.overlap);
}
