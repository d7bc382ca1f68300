import { classifyBigQueryError, locateRejectedValue, refusedSqlHint } from '../../bigquery/errors';
import { BigQueryJobFailed } from '../../bigquery/jobs';
import { stepJobId, stepJobPrefix } from '../../bigquery/job-ids';
import { maskQuotedValues } from '../../sources/value-free';
import { describeMysqlError, classifyMysqlError } from '../../sources/mysql/errors';
import { describePostgresError, classifyPostgresError } from '../../sources/postgres/errors';
import { activityAttempts } from '../../client/commands/inspect';

const apiError = (code: number, reason: string, message: string) => Object.assign(new Error(message), { code, errors: [{ reason, message }] });

describe('SQL steps exactly once', () => {
  test("a step's job ID is the same in every attempt of the step in a run, and differs between runs", () => {
    const run = { workflowId: 'bqsync-nightly', runId: 'run-1', activityId: '7' };
    expect(stepJobPrefix(run, 'daily_revenue')).toBe(stepJobPrefix({ ...run }, 'daily_revenue'));
    expect(stepJobPrefix(run, 'daily_revenue')).not.toBe(stepJobPrefix({ ...run, runId: 'run-2' }, 'daily_revenue'));
    expect(stepJobPrefix(run, 'daily_revenue')).not.toBe(stepJobPrefix(run, 'weekly_revenue'));
    expect(stepJobId(stepJobPrefix(run, 'daily revenue!'), 2)).toMatch(/^bqsync_step_daily_revenue__[0-9a-f]{16}_2$/);
  });

  test('only SQL BigQuery refuses is final; backend errors, rate limits and 5xx answers are passing', () => {
    expect(classifyBigQueryError(new BigQueryJobFailed('j', 'invalidQuery', ['Unrecognized name: x at [1:8]']))).toBe('rejected');
    expect(classifyBigQueryError(apiError(404, 'notFound', 'Not found: Table p:d.t was not found'))).toBe('rejected');
    expect(classifyBigQueryError(new BigQueryJobFailed('j', 'backendError', ['Backend error']))).toBe('transient');
    expect(classifyBigQueryError(apiError(403, 'rateLimitExceeded', 'Exceeded rate limits'))).toBe('transient');
    expect(classifyBigQueryError(apiError(500, 'internalError', 'failed to get connection'))).toBe('transient');
    expect(classifyBigQueryError(Object.assign(new Error('x'), { code: 503 }))).toBe('transient');
    // The emulator reports refused SQL as jobInternalError with the analyzer's status.
    expect(classifyBigQueryError(new BigQueryJobFailed('j', 'jobInternalError', ['INVALID_ARGUMENT: Table not found: t [at 1:15]']))).toBe('rejected');
    expect(classifyBigQueryError(new BigQueryJobFailed('j', 'jobInternalError', ['failed to get connection: context canceled']))).toBe('transient');
    // A load file the emulator read damaged under load: bqsync writes only valid JSON lines.
    expect(classifyBigQueryError(new BigQueryJobFailed('j', 'jobInternalError', ['expected comma after object value']))).toBe('transient');
    expect(classifyBigQueryError(new BigQueryJobFailed('j', 'jobInternalError', ['json: string unexpected end of JSON input']))).toBe('transient');
    expect(classifyBigQueryError(new BigQueryJobFailed('j', 'jobInternalError', ['strconv.ParseFloat: parsing "1e400": value out of range']))).toBe('rejected');
  });

  test('what BigQuery says about refused SQL keeps the position, not quoted values', () => {
    const err = new BigQueryJobFailed('j', 'invalidQuery', ["Bad int64 value: SECRET-1 at [2:3]"]);
    expect(refusedSqlHint(err)).toBe('Bad int64 value <…>');
    expect(refusedSqlHint(new BigQueryJobFailed('j', 'invalidQuery', ["Unrecognized name: totl; Did you mean total? at [1:8]"]))).toBe(
      'Unrecognized name: totl; Did you mean total? at [1:8]',
    );
    expect(refusedSqlHint(new BigQueryJobFailed('j', 'invalidQuery', ["No matching signature for 'SECRET-2'"]))).not.toContain('SECRET');
  });
});

describe('row values in failure messages', () => {
  test('a failed job says its reason, never what BigQuery quoted', () => {
    const err = new BigQueryJobFailed('bqsync_x_load1_3r', 'invalid', ['JSON parsing error in row starting at position 0: Value: SECRET-3']);
    expect(err.message).toBe('BigQuery job bqsync_x_load1_3r failed (invalid)');
    expect(JSON.stringify(err)).not.toContain('SECRET');
    expect(require('node:util').inspect(err)).not.toContain('SECRET');
  });

  test('the column and the row of a refused value are found; the value is not kept', () => {
    const columns = [
      { name: 'id', type: 'INT64' },
      { name: 'name', type: 'STRING' },
      { name: 'doc', type: 'JSON' },
    ];
    expect(
      locateRejectedValue(new BigQueryJobFailed('j', 'invalid', ['Error while reading data, error message: JSON parsing error in row starting at position 120: Could not convert value to string. Field: name; Value: SECRET-4']), columns),
    ).toEqual({ column: 'name', position: 120 });
    expect(
      locateRejectedValue(new BigQueryJobFailed('j', 'invalid', ['Error while reading data; line_number: 2 byte_offset_to_start_of_line: 40 column_index: 2 column_name: "doc" column_type: JSON value: "SECRET-X"']), columns),
    ).toEqual({ column: 'doc', line: 2, position: 40 });
    // The emulator names no column: the kind of parse that failed points at the one JSON column.
    expect(locateRejectedValue(new BigQueryJobFailed('j', 'jobInternalError', ['INSERT ... args [2 U0VDUkVU]: invalid character looking for beginning of value']), columns)).toEqual({
      column: 'doc',
    });
    expect(locateRejectedValue(new BigQueryJobFailed('j', 'invalid', ['bad value SECRET-5']), columns)).toEqual({ column: undefined });
  });

  test('driver errors keep codes and names, and lose the values they quote', () => {
    const my = Object.assign(new Error("Incorrect integer value: 'SECRET-6' for column `shop`.`t`.`n` at row 1"), {
      code: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
      sql: "SELECT 'SECRET-7'",
    });
    expect(classifyMysqlError(my)).toBe('bad-value');
    expect(describeMysqlError(my)).toBe('ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: Incorrect integer value: <value> for column `shop`.`t`.`n` at row 1');
    expect(describeMysqlError(Object.assign(new Error("Table 'shop.gone' doesn't exist"), { code: 'ER_NO_SUCH_TABLE' }))).toBe(
      "ER_NO_SUCH_TABLE: Table 'shop.gone' doesn't exist",
    );
    const pg = Object.assign(new Error('invalid input syntax for type integer: "SECRET-8"'), { code: '22P02', detail: 'SECRET-9', column: 'n' });
    expect(classifyPostgresError(pg)).toBe('bad-value');
    expect(describePostgresError(pg)).toBe('22P02: invalid input syntax for type integer: <value> (column n)');
    expect(maskQuotedValues('relation "x_orders" does not exist', '\'"')).toBe('relation "x_orders" does not exist');
  });

  test("the attempts shown are the activity's real attempts, not its scheduled events", () => {
    const events = [
      { eventId: 5, activityTaskScheduledEventAttributes: { activityType: { name: 'requestWriteLock' } } },
      { eventId: 6, activityTaskStartedEventAttributes: { attempt: 1, scheduledEventId: 5 } },
      { eventId: 9, activityTaskScheduledEventAttributes: { activityType: { name: 'syncTable' } } },
      { eventId: 10, activityTaskStartedEventAttributes: { attempt: 4, scheduledEventId: 9 } },
      { eventId: 11, activityTaskFailedEventAttributes: {} },
    ];
    expect(activityAttempts(events)).toBe(4);
  });
});

describe('row values in failure messages: BigQuery words shown for other errors', () => {
  test('the bound values the emulator lists are masked', () => {
    const err = new BigQueryJobFailed('j', 'jobInternalError', ['failed to execute query INSERT INTO `t` (`a`) VALUES (?): args [2 U0VDUkVULU1BUktFUi1OQU1F]: bad']);
    expect(refusedSqlHint(err)).toBe('failed to execute query INSERT INTO `t` (`a`) VALUES <…>');
  });
});
