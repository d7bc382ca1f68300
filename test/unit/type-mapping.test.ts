import { RowEncoder } from '../../bigquery/row-encoder';
import { bigQueryColumn, ColumnMapping, decimalType } from '../../bigquery/types';
import type { RawValue } from '../../sources/logical-types';
import { quoteMysql } from '../../sources/mysql/errors';
import { MysqlColumnInfo, mysqlLogicalType } from '../../sources/mysql/types';
import { quotePostgres } from '../../sources/postgres/errors';
import { PG_OID, postgresLogicalType, valueForms } from '../../sources/postgres/types';

/** A MySQL column as the driver describes it, mapped to BigQuery. */
const mysqlColumn = (dataType: string, extra: Partial<MysqlColumnInfo> = {}): ColumnMapping => {
  const info: MysqlColumnInfo = { name: 'c', dataType, columnType: dataType, precision: null, scale: null, isJson: false, ...extra };
  return bigQueryColumn({ name: info.name, columnType: info.columnType, nullable: true, ...mysqlLogicalType(info) });
};

/** A PostgreSQL column as the driver describes it, mapped to BigQuery. */
const postgresColumn = (typeName: string, name = 'c'): ColumnMapping =>
  bigQueryColumn({ name, columnType: typeName, nullable: true, ...postgresLogicalType({ name, typeName, precision: null, scale: null }, quotePostgres) });

/** PostgreSQL's text for a value of the type, as the driver hands it on. */
const fromPostgres = (oid: number, text: string | null): RawValue => (text === null ? null : valueForms.getTypeParser(oid)(text));

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
    expect(mysqlColumn('tinyint', { columnType: 'tinyint(1)' }).bigQueryType).toBe('INT64');
    expect(mysqlColumn('bigint', { columnType: 'bigint(20) unsigned' }).bigQueryType).toBe('NUMERIC');
    expect(mysqlColumn('bigint').bigQueryType).toBe('INT64');
  });

  test('wall-clock and instant types stay apart', () => {
    expect(mysqlColumn('datetime').bigQueryType).toBe('DATETIME');
    expect(mysqlColumn('timestamp').bigQueryType).toBe('TIMESTAMP');
    expect(postgresColumn('timestamp').bigQueryType).toBe('DATETIME');
    expect(postgresColumn('timestamptz').bigQueryType).toBe('TIMESTAMP');
  });

  test('MariaDB JSON (LONGTEXT with json_valid) becomes JSON', () => {
    expect(mysqlColumn('longtext', { isJson: true }).bigQueryType).toBe('JSON');
    expect(mysqlColumn('longtext').bigQueryType).toBe('STRING');
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
      mysqlColumn('bigint', { name: 'u', columnType: 'bigint(20) unsigned' }),
      mysqlColumn('tinyint', { name: 'flag' }),
      mysqlColumn('decimal', { name: 'd', precision: 65, scale: 30 }),
      mysqlColumn('date', { name: 'day' }),
      mysqlColumn('timestamp', { name: 'ts' }),
      mysqlColumn('varchar', { name: 's' }),
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
    const enc = new RowEncoder([mysqlColumn('datetime', { name: 'at' })]);
    const kept = ['0001-01-01 00:00:00', '9999-12-31 23:59:59.999999', '2000-10-10 00:00:00', '0100-01-01 00:00:00', '1000-02-03 04:05:06'];
    const nulled = ['0000-00-00 00:00:00', '0000-01-01 00:00:00', '2024-00-10 00:00:00', '2024-10-00 00:00:00', '10000-01-01 00:00:00', '0044-03-15 00:00:00 BC', 'infinity', '-infinity', ''];
    for (const v of kept) expect(JSON.parse(enc.encode([v]))).toEqual({ at: v });
    for (const v of nulled) expect(JSON.parse(enc.encode([v]))).toEqual({});
    expect(enc.nulledValues).toEqual({ at: nulled.length });
  });

  test('PostgreSQL text forms: bool, bytea, infinity, NaN, json', () => {
    const enc = new RowEncoder([
      postgresColumn('bool', 'b'),
      postgresColumn('bytea', 'bin'),
      postgresColumn('timestamptz', 'ts'),
      postgresColumn('float8', 'f'),
      postgresColumn('jsonb', 'j'),
    ]);
    const oids = [PG_OID.bool, PG_OID.bytea, PG_OID.timestamptz, 701, 3802];
    const wire = (texts: (string | null)[]) => texts.map((t, i) => fromPostgres(oids[i], t));
    const row = JSON.parse(enc.encode(wire(['t', '\\x00ff', 'infinity', 'NaN', '{"a": [1, 2.50]}'])));
    expect(row).toEqual({ b: true, bin: Buffer.from([0, 255]).toString('base64'), f: 'NaN', j: { a: [1, 2.5] } });
    expect(enc.nulledValues).toEqual({ ts: 1 });
    expect(JSON.parse(enc.encode(wire(['f', null, '2024-01-01 00:00:00.5+00', '1e-7', null])))).toEqual({
      b: false,
      ts: '2024-01-01 00:00:00.5+00:00',
      f: 1e-7,
    });
  });
});
