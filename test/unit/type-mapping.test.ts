import { RowEncoder } from '../../bigquery/row-encoder';
import { ColumnMapping, decimalType, mapMysqlColumn, mapPostgresColumn, SourceColumn } from '../../bigquery/types';
import { quoteMysql } from '../../sources/mysql/connection';
import { quotePostgres } from '../../sources/postgres/connection';

const col = (dataType: string, extra: Partial<SourceColumn> = {}): SourceColumn => ({
  name: 'c',
  dataType,
  columnType: dataType,
  nullable: true,
  ...extra,
});

const mapPostgresColumnQ = (c: SourceColumn) => mapPostgresColumn(c, quotePostgres);
const mapped = (m: Omit<ColumnMapping, 'bigQueryName'>, name = 'c'): ColumnMapping => ({ ...m, bigQueryName: name });

describe('type mapping', () => {
  test('decimals get the narrowest exact type, never a float', () => {
    expect(decimalType(18, 4)).toBe('NUMERIC');
    expect(decimalType(38, 9)).toBe('NUMERIC');
    expect(decimalType(40, 10)).toBe('BIGNUMERIC');
    expect(decimalType(65, 30)).toBe('BIGNUMERIC');
    expect(decimalType(65, 0)).toBe('STRING');
    expect(decimalType(null, null)).toBe('STRING');
  });

  test('MySQL integers: tinyint(1) stays an integer, unsigned bigint becomes NUMERIC', () => {
    expect(mapMysqlColumn(col('tinyint', { columnType: 'tinyint(1)' }), quoteMysql).bigQueryType).toBe('INT64');
    expect(mapMysqlColumn(col('bigint', { unsigned: true }), quoteMysql).bigQueryType).toBe('NUMERIC');
    expect(mapMysqlColumn(col('bigint'), quoteMysql).bigQueryType).toBe('INT64');
  });

  test('wall-clock and instant types stay apart', () => {
    expect(mapMysqlColumn(col('datetime'), quoteMysql).bigQueryType).toBe('DATETIME');
    expect(mapMysqlColumn(col('timestamp'), quoteMysql).bigQueryType).toBe('TIMESTAMP');
    expect(mapPostgresColumnQ(col('timestamp')).bigQueryType).toBe('DATETIME');
    expect(mapPostgresColumnQ(col('timestamptz')).bigQueryType).toBe('TIMESTAMP');
  });

  test('MariaDB JSON (LONGTEXT with json_valid) becomes JSON', () => {
    expect(mapMysqlColumn(col('longtext', { isJson: true }), quoteMysql).bigQueryType).toBe('JSON');
    expect(mapMysqlColumn(col('longtext'), quoteMysql).bigQueryType).toBe('STRING');
  });

  test('identifiers are quoted, inner quotes doubled', () => {
    expect(quoteMysql('we`ird; DROP')).toBe('`we``ird; DROP`');
    expect(quotePostgres('we"ird')).toBe('"we""ird"');
    expect(() => quoteMysql('a\u0000b')).toThrow(/NUL/);
  });
});

describe('row encoding', () => {
  test('values keep every digit and zero dates become counted NULLs', () => {
    const enc = new RowEncoder([
      mapped(mapMysqlColumn(col('bigint', { unsigned: true }), quoteMysql), 'u'),
      mapped(mapMysqlColumn(col('tinyint'), quoteMysql), 'flag'),
      mapped(mapMysqlColumn(col('decimal', { precision: 65, scale: 30 }), quoteMysql), 'd'),
      mapped(mapMysqlColumn(col('date', { name: 'day' }), quoteMysql), 'day'),
      mapped(mapMysqlColumn(col('timestamp'), quoteMysql), 'ts'),
      mapped(mapMysqlColumn(col('varchar'), quoteMysql), 's'),
    ]);
    const line = enc.encode([
      '18446744073709551615',
      '2',
      '12345678901234567890123456789012345.123456789012345678901234567890',
      '0000-00-00',
      '2024-02-29 23:59:59.999999',
      'a "quoted" 🚀\n',
    ]);
    expect(JSON.parse(line)).toEqual({
      u: '18446744073709551615',
      flag: 2,
      d: '12345678901234567890123456789012345.123456789012345678901234567890',
      ts: '2024-02-29 23:59:59.999999+00:00',
      s: 'a "quoted" 🚀\n',
    });
    expect(enc.nulledValues).toEqual({ day: 1 });
  });

  test('dates outside BigQuery\'s years 1 to 9999 become counted NULLs, every other date passes', () => {
    const enc = new RowEncoder([mapped(mapMysqlColumn(col('datetime', { name: 'at' }), quoteMysql), 'at')]);
    const kept = ['0001-01-01 00:00:00', '9999-12-31 23:59:59.999999', '2000-10-10 00:00:00', '0100-01-01 00:00:00', '1000-02-03 04:05:06'];
    const nulled = ['0000-00-00 00:00:00', '0000-01-01 00:00:00', '2024-00-10 00:00:00', '2024-10-00 00:00:00', '10000-01-01 00:00:00', '0044-03-15 00:00:00 BC', 'infinity', '-infinity', ''];
    for (const v of kept) expect(JSON.parse(enc.encode([v]))).toEqual({ at: v });
    for (const v of nulled) expect(JSON.parse(enc.encode([v]))).toEqual({});
    expect(enc.nulledValues).toEqual({ at: nulled.length });
  });

  test('PostgreSQL text forms: bool, bytea, infinity, NaN, json', () => {
    const enc = new RowEncoder([
      mapped(mapPostgresColumnQ(col('bool')), 'b'),
      mapped(mapPostgresColumnQ(col('bytea')), 'bin'),
      mapped(mapPostgresColumnQ(col('timestamptz', { name: 'ts' })), 'ts'),
      mapped(mapPostgresColumnQ(col('float8')), 'f'),
      mapped(mapPostgresColumnQ(col('jsonb')), 'j'),
    ]);
    const row = JSON.parse(enc.encode(['t', '\\x00ff', 'infinity', 'NaN', '{"a": [1, 2.50]}']));
    expect(row).toEqual({ b: true, bin: Buffer.from([0, 255]).toString('base64'), f: 'NaN', j: { a: [1, 2.5] } });
    expect(enc.nulledValues).toEqual({ ts: 1 });
    expect(JSON.parse(enc.encode(['f', null, '2024-01-01 00:00:00.5+00', '1e-7', null]))).toEqual({
      b: false,
      ts: '2024-01-01 00:00:00.5+00:00',
      f: 1e-7,
    });
  });
});
