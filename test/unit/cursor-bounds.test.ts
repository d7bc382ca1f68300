import { earliestCursor, highWaterMark, nextLowerBound } from '../../activities/table-sync/cursor';
import { filterClause } from '../../sources/driver';
import { formatSummary } from '../../client/summary-format';
import type { NodeResult } from '../../common/payloads';

describe('cursors that skip rows: the next lower bound', () => {
  test('a load read in key ranges: the bound comes from its high-water mark, not from MAX in BigQuery', () => {
    // MAX reflects the last range read; a row of the first range changed at 00:00 would be skipped.
    const bound = nextLowerBound({
      type: 'DATETIME',
      overlap: '10m',
      destinationMax: '2024-06-01T01:00:00',
      mark: '2024-01-01 08:20:00.000000',
      sourceNow: '2026-12-04 10:00:00.000000',
    });
    expect(bound).toBe('2024-01-01 08:10:00.000');
  });

  test('without a stored mark (a table loaded before marks were kept), MAX in BigQuery as before', () => {
    expect(nextLowerBound({ type: 'TIMESTAMP', overlap: '1m', destinationMax: '2024-02-01T00:00:00', sourceNow: '2026-01-01 00:00:00' })).toBe(
      '2024-01-31 23:59:00.000',
    );
  });

  test('a future-dated row in BigQuery does not freeze the table: the bound stops at the source clock', () => {
    const bound = nextLowerBound({ type: 'TIMESTAMP', overlap: '10m', destinationMax: '2099-01-01T00:00:00', sourceNow: '2026-12-04 12:00:00.5' });
    expect(bound).toBe('2026-12-04 11:50:00.500');
    expect(nextLowerBound({ type: 'DATE', overlap: '1d', destinationMax: '2099-01-01', sourceNow: '2026-12-04 12:00:00' })).toBe('2026-12-03');
  });

  test('an empty destination reads every row', () => {
    expect(nextLowerBound({ type: 'INT64', overlap: undefined, mark: '5' })).toBeUndefined();
  });

  test('integer cursors: the default overlap re-reads 10,000 IDs; the source clock does not apply', () => {
    expect(nextLowerBound({ type: 'INT64', overlap: undefined, destinationMax: '102', sourceNow: '2026-12-04 12:00:00' })).toBe('-9898');
    expect(nextLowerBound({ type: 'INT64', overlap: 0, destinationMax: '9223372036854775807', mark: '9223372036854775000' })).toBe(
      '9223372036854775000',
    );
  });
});

describe('high-water marks', () => {
  test('the source maximum, never later than the source clock', () => {
    expect(highWaterMark({ max: '2024-01-01 08:20:00.000000', now: '2026-12-04 10:00:00.000000', nulls: 0, ahead: 0 }, 'DATETIME')).toBe(
      '2024-01-01 08:20:00.000000',
    );
    expect(highWaterMark({ max: '2099-01-01 00:00:00+00', now: '2026-12-04 10:00:00.123456', nulls: 0, ahead: 1 }, 'TIMESTAMP')).toBe(
      '2026-12-04 10:00:00.123456',
    );
    expect(highWaterMark({ max: undefined, now: '2026-12-04 10:00:00', nulls: 3, ahead: 0 }, 'TIMESTAMP')).toBe('2026-12-04 10:00:00');
    expect(highWaterMark({ max: '102', nulls: 0, ahead: 0 }, 'INT64')).toBe('102');
  });

  test('earliest compares microseconds and integers beyond 2^53 exactly, across forms', () => {
    expect(earliestCursor(['2024-01-01 00:00:00.000002', '2024-01-01T00:00:00.000001', undefined], 'DATETIME')).toBe('2024-01-01T00:00:00.000001');
    expect(earliestCursor(['2024-01-02', '2024-01-01 23:59:59.999999+00'], 'DATE')).toBe('2024-01-01 23:59:59.999999+00');
    expect(earliestCursor(['9007199254740993', '9007199254740992'], 'INT64')).toBe('9007199254740992');
    expect(earliestCursor([undefined], 'INT64')).toBeUndefined();
  });
});

describe('rows whose cursor is NULL', () => {
  test('an incremental filter also selects them; the value stays a parameter', () => {
    const q = (id: string) => `"${id}"`;
    expect(filterClause({ column: 'updated_at', from: '2024-01-01', orNull: true }, q, (i) => `$${i}`)).toEqual({
      where: ' WHERE ("updated_at" >= $1 OR "updated_at" IS NULL)',
      params: ['2024-01-01'],
    });
    expect(filterClause({ column: 'id', from: '1', below: '9' }, q, () => '?').where).toBe(' WHERE "id" >= ? AND "id" < ?');
  });
});

describe('what a table result says about its cursor', () => {
  const summary = (result: Partial<NodeResult>) =>
    formatSummary({
      pipeline: 'nightly',
      startedAt: '2026-12-04T02:00:00Z',
      succeeded: 1,
      failed: 0,
      skipped: 0,
      running: 0,
      pending: 0,
      rowsLoaded: 12,
      results: [{ key: 'shop.orders', kind: 'table', status: 'succeeded', rowsRead: 12, rowsLoaded: 12, mode: 'merge', ...result }],
    });

  test('NULL and future-dated cursors are counted, a new column of an incremental table names the full refresh', () => {
    const text = summary({
      cursorFrom: '2026-12-03 01:50:00.000',
      cursorNulls: 4,
      cursorAhead: 1,
      schemaChanges: { added: ['tier', 'note'], dropped: [], widened: [] },
      nullUntilFullRefresh: ['tier'],
    });
    expect(text).toContain('4 rows with a NULL cursor (read on every run)');
    expect(text).toContain("1 row dated after the source's clock (read on every run; the bound stops at the clock)");
    expect(text).toContain('column tier added: existing rows hold NULL until a full refresh (bqsync sync shop.orders --full-refresh)');
    expect(text).toContain('new columns: note');
    expect(text).not.toContain('new columns: tier');
  });
});
