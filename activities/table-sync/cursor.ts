import type { BigQueryType } from '../../bigquery/types';

/** BigQuery types a cursor column may have: they are ordered and grow with new rows. */
export const CURSOR_TYPES: BigQueryType[] = ['INT64', 'DATE', 'DATETIME', 'TIMESTAMP'];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Default overlap: time cursors re-read ten minutes, so that late commits are not missed. */
export const DEFAULT_TIME_OVERLAP = '10m';

export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration such as "30s", "15m", "6h" or "1d"`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

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
    return (BigInt(max) - BigInt(overlap ?? 0)).toString();
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
