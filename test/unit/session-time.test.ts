import { parseSessionTime, sessionValues, whereCondition } from '../../common/session-time';
import { filterClause } from '../../sources/driver';
import { withTableCondition } from '../../activities/table-sync/table-condition';
import type { TableTask } from '../../common/payloads';
import { renderStepSql, sessionQueryParams } from '../../activities/run-step';

describe('session values', () => {
  it('a daily 07:00 Tokyo run scheduled at 22:00 UTC stands for the next Tokyo date', () => {
    const v = sessionValues('2026-11-24T22:00:00Z', 'Asia/Tokyo', { cron: '0 7 * * *' });
    expect(v.session_date).toBe('2026-11-25');
    expect(v.session_time).toBe('2026-11-25 07:00:00+09:00');
    expect(v.session_local_time).toBe('2026-11-25 07:00:00');
    expect(v.session_date_compact).toBe('20261125');
    expect(v.last_session_date).toBe('2026-11-24');
    expect(v.last_session_time).toBe('2026-11-24 07:00:00+09:00');
    expect(v.next_session_date).toBe('2026-11-26');
  });

  it('the previous session of a weekday cron skips the weekend; an interval steps back by itself', () => {
    // Monday 2026-11-23 02:00 UTC; weekdays only: the last session is Friday's.
    expect(sessionValues('2026-11-23T02:00:00Z', 'UTC', { cron: '0 2 * * 1-5' }).last_session_date).toBe('2026-11-20');
    expect(sessionValues('2026-11-23T02:00:00Z', 'UTC', { everyMs: 6 * 3600_000 }).last_session_time).toBe('2026-11-22 20:00:00+00:00');
    // No schedule: a day, as Digdag's default.
    expect(sessionValues('2026-11-23T02:00:00Z', 'UTC', undefined).last_session_date).toBe('2026-11-22');
  });

  it('a daylight-saving zone gets its offset of that night', () => {
    expect(sessionValues('2026-07-01T06:00:00Z', 'America/New_York', undefined).session_time).toBe('2026-07-01 02:00:00-04:00');
    expect(sessionValues('2026-12-01T07:00:00Z', 'America/New_York', undefined).session_time).toBe('2026-12-01 02:00:00-05:00');
  });

  it('--session-time takes a date (midnight in the zone) or a time with its offset, nothing else', () => {
    expect(parseSessionTime('2026-11-25', 'Asia/Tokyo')).toBe('2026-11-24T15:00:00.000Z');
    expect(parseSessionTime('2026-11-25T07:00:00+09:00', 'UTC')).toBe('2026-11-24T22:00:00.000Z');
    expect(() => parseSessionTime('2026-11-25 07:00', 'UTC')).toThrow(/give a date/);
    expect(() => parseSessionTime("2026-11-25'; DROP TABLE x; --", 'UTC')).toThrow(/give a date/);
  });
});

describe('session values in SQL steps', () => {
  const session = sessionValues('2026-11-24T22:00:00Z', 'Asia/Tokyo', { cron: '0 7 * * *' });
  const vars = { project: 'p', dataset: 'marts', datasets: { shop: 'shop_raw' }, session };

  it('{{...}} become typed literals built from the values', () => {
    const sql = renderStepSql(
      'INSERT INTO `{{project}}.{{dataset}}.daily_{{session_date_compact}}` SELECT * FROM t WHERE d = {{session_date}} AND ts < {{session_time}} AND d > {{last_session_date}}',
      vars,
    );
    expect(sql).toBe(
      "INSERT INTO `p.marts.daily_20261125` SELECT * FROM t WHERE d = DATE '2026-11-25' AND ts < TIMESTAMP '2026-11-25 07:00:00+09:00' AND d > DATE '2026-11-24'",
    );
  });

  it('@session_date and friends are bound as query parameters, typed; other @names are left alone', () => {
    expect(sessionQueryParams('SELECT @session_date, @session_time, @session_date, @last_session_date_compact, @other', session)).toEqual({
      values: { session_date: '2026-11-25', session_time: '2026-11-25 07:00:00+09:00', last_session_date_compact: '20261124' },
      types: { session_date: 'DATE', session_time: 'TIMESTAMP', last_session_date_compact: 'STRING' },
    });
  });

  it('an unknown placeholder is still an error', () => {
    expect(() => renderStepSql('SELECT {{session_day}}', vars)).toThrow('unknown placeholder {{session_day}}');
  });
});

describe('a table\'s where: filter', () => {
  const task = {
    key: 'shop.orders',
    where: "created_at >= {{session_date}} AND created_at < {{next_session_date}} AND status <> 'x'",
    sessionTime: '2026-11-24T22:00:00Z',
    timeZone: 'Asia/Tokyo',
    cadence: { cron: '0 7 * * *' },
  } as TableTask;

  it('its session values are parameters, numbered after the cursor\'s, in each engine\'s form', () => {
    const filter = withTableCondition({ column: 'id', from: '10', below: '20' }, task, 'bqsync.yaml');
    const q = (id: string) => `"${id}"`;
    expect(filterClause(filter, q, (i) => `$${i}`)).toEqual({
      where: ` WHERE "id" >= $1 AND "id" < $2 AND (created_at >= $3 AND created_at < $4 AND status <> 'x')`,
      params: ['10', '20', '2026-11-25', '2026-11-26'],
    });
    expect(filterClause(withTableCondition(undefined, task, 'bqsync.yaml'), q, () => '?')).toEqual({
      where: " WHERE (created_at >= ? AND created_at < ? AND status <> 'x')",
      params: ['2026-11-25', '2026-11-26'],
    });
  });

  it('session_time is bound in UTC, as the extraction sessions compare it', () => {
    const filter = withTableCondition(undefined, { ...task, where: 'updated_at < {{session_time}}' }, 'f');
    expect(filter?.condition?.values).toEqual(['2026-11-24 22:00:00']);
  });

  it('refuses parameters of its own and unknown placeholders', () => {
    expect(() => whereCondition('id = ?')).toThrow(/may not hold "\?"/);
    expect(() => whereCondition('id = $1')).toThrow(/may not hold/);
    expect(() => whereCondition('d = {{today}}')).toThrow(/unknown placeholder \{\{today\}\}/);
    expect(() => withTableCondition(undefined, { ...task, sessionTime: undefined }, 'bqsync.yaml')).toThrow(/shop.orders: where: the run gave no session time/);
  });
});
