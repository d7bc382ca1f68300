import { normalize } from '../helpers/compare';
import { BIGQUERY_PROJECT, ON_EMULATOR } from '../helpers/env';
import {
  bigQuery,
  bqRows,
  mysqlConnection,
  mysqlSource,
  postgresClient,
  postgresSource,
  runCli,
  RunningWorker,
  startWorker,
  temporalClient,
  testConfig,
  writeConfig,
} from '../helpers/harness';
import type { RunSummary } from '../../common/payloads';
import { FakeMysql8, startFakeMysql8 } from '../helpers/fake-mysql8';
import { JSON_TABLE, TYPES_TABLE } from '../helpers/mysql8-tables';
import { MYSQL_DDL, MYSQL_ROWS, PG_DDL, PG_ROWS } from '../helpers/type-tables';
import { summaryFromFailure } from '../../client/run-failure';

/*
 * A round trip of every mapped type, edge values included, through the real databases and
 * the emulator; the values in BigQuery are compared with what the source holds.
 */

/**
 * Where the emulator differs from BigQuery (README: emulator gaps), the expectation names
 * both: BigQuery's value, and what the emulator returns instead.
 */
const gap = (bigquery: unknown, emulator: unknown) => (ON_EMULATOR ? emulator : bigquery);

// What BigQuery must hold, after `normalize`: [row 1, row 2, row 3].
const MYSQL_EXPECTED: Record<string, [unknown, unknown, unknown]> = {
  c_tinyint: ['127', '-128', null],
  c_tinyint_u: ['255', '0', null],
  c_bool: ['2', '0', null],
  c_smallint: ['-32768', '0', null],
  c_smallint_u: ['65535', '0', null],
  c_mediumint: ['8388607', '-8388608', null],
  c_mediumint_u: ['16777215', '0', null],
  c_int: ['-2147483648', '0', null],
  c_int_u: ['4294967295', '0', null],
  c_bigint: ['9223372036854775807', '-9223372036854775808', null],
  c_bigint_u: ['18446744073709551615', '0', null],
  c_dec_18_4: ['99999999999999.9999', '-0.0001', null],
  c_dec_38_9: ['99999999999999999999999999999.999999999', '-1.000000001', null],
  c_dec_65_30: ['99999999999999999999999999999999999.999999999999999999999999999999', '-0.000000000000000000000000000001', null],
  c_dec_65_0: ['12345678901234567890123456789012345678901234567890123456789012345', '-1', null],
  c_float: ['1.5', '0', null],
  c_double: ['1.7976931348623157e+308', '-2.2250738585072014e-308', null],
  c_bit1: ['1', '0', null],
  c_bit8: ['255', '0', null],
  c_bit64: ['18446744073709551615', '0', null],
  c_char: ['abc', '', null],
  c_varchar: [`emoji 🚀, tab\t, newline\n, bell ${String.fromCharCode(7)}`, '', null],
  c_text: ['long text', '', null],
  c_enum: ['b c', 'a', null],
  c_set: ['x,z', '', null],
  c_binary: [Buffer.from([0, 255, 1, 2]).toString('base64'), Buffer.from([0, 0, 0, 0]).toString('base64'), null],
  c_varbinary: [Buffer.from('deadbeef', 'hex').toString('base64'), '', null],
  c_blob: [Buffer.from('blob').toString('base64'), '', null],
  c_date: ['9999-12-31', null, null],
  c_time: ['838:59:59.000000', '-838:59:59.000000', null],
  c_year: ['2155', '1901', null],
  c_datetime: ['9999-12-31 23:59:59.999999', null, null],
  c_timestamp: ['2038-01-19 03:14:07.999999', '1970-01-01 00:00:01', null],
  c_json: ['{"a":[1,2.5,"x"],"big":12345678901234567890}', '[]', null],
  c_point: ['POINT(1 2)', null, null],
  c_uuid: ['123e4567-e89b-12d3-a456-426614174000', '00000000-0000-0000-0000-000000000000', null],
  c_inet6: ['2001:db8::1', '::ffff:10.0.0.1', null],
};

const PG_EXPECTED: Record<string, [unknown, unknown, unknown]> = {
  c_int2: ['32767', '-32768', null],
  c_int4: ['2147483647', '-2147483648', null],
  c_int8: ['9223372036854775807', '-9223372036854775808', null],
  c_num_18_4: ['99999999999999.9999', '-99.5', null],
  c_num_40_10: ['123456789012345678901234567890.0123456789', null, null],
  c_num_free: ['3.14159265358979323846264338327950288419716939937510', '-0.5', null],
  // The emulator reads "NaN" as NULL and "Infinity"/"-Infinity" as NaN.
  c_real: [gap('NaN', null), gap('-Infinity', 'NaN'), null],
  c_double: [gap('Infinity', 'NaN'), gap('NaN', null), null],
  c_bool: [true, false, null],
  c_char: ['ab   ', '     ', null],
  c_varchar: ['emoji 🚀 \t', '', null],
  c_text: ['text', '', null],
  c_bytea: [Buffer.from([0, 255]).toString('base64'), '', null],
  c_date: ['2024-02-29', null, null],
  c_time: [null, '00:00:00', null],
  c_timetz: ['12:34:56+09', '00:00:00+00', null],
  c_ts: ['2024-02-29 23:59:59.999999', null, null],
  c_tstz: ['2024-02-29 14:59:59.999999', '1970-01-01 00:00:00', null],
  c_interval: ['P1Y2M3DT4H5M6.7S', 'P-1D', null],
  c_json: ['{"a":1}', '[]', null],
  // A JSON null loads as SQL NULL, in BigQuery as in the emulator (README: types).
  c_jsonb: ['{"b":[1,2]}', null, null],
  c_uuid: ['123e4567-e89b-12d3-a456-426614174000', '00000000-0000-0000-0000-000000000000', null],
  c_int_array: ['[1,2,null]', '[]', null],
  c_text_array: ['["a","b c",null]', '[]', null],
  c_enum: ['happy', 'sad', null],
  c_inet: ['10.0.0.1', '::1', null],
  c_cidr: ['10.0.0.0/8', '::/0', null],
  c_macaddr: ['08:00:2b:01:02:03', '00:00:00:00:00:00', null],
  c_money: ['1234.56', '-0.01', null],
  c_point: ['(1,2)', '(0,0)', null],
  c_bit: ['1010', '0000', null],
  c_varbit: ['101', '', null],
  c_domain: ['5', '1', null],
  c_xml: ['<a>1</a>', '', null],
  c_range: ['[1,10)', 'empty', null],
};

/**
 * The emulator stores a BYTES value of a JSON load as its base64 text instead of decoding
 * it (README: emulator gaps); BigQuery decodes it. Either way the test compares base64.
 */
function bytesAsBase64(v: unknown): unknown {
  if (!Buffer.isBuffer(v)) return v;
  const text = v.toString('utf8');
  return process.env.BQSYNC_REAL_BIGQUERY ? v.toString('base64') : text;
}

function compare(rows: Record<string, unknown>[], expected: Record<string, [unknown, unknown, unknown]>, bytesColumns: string[]) {
  const actual: Record<string, unknown[]> = {};
  for (const column of Object.keys(expected)) {
    actual[column] = rows.map((r) => {
      const v = bytesColumns.includes(column) ? bytesAsBase64(r[column]) : r[column];
      // Floats compare as numbers; the client turns NaN/Infinity into JS numbers too.
      if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? normalize(String(v)) : v > 0 ? 'Infinity' : '-Infinity';
      return normalize(v);
    });
  }
  const want = Object.fromEntries(Object.entries(expected).map(([c, vals]) => [c, vals.map((v) => (typeof v === 'string' ? normalize(v) : v))]));
  expect(actual).toEqual(want);
}

/**
 * MySQL 8's side, from the protocol fake (test/helpers/fake-mysql8.ts: no MySQL 8 server can
 * be installed here) through a worker's table sync to BigQuery.
 */
const MYSQL8_EXPECTED: Record<string, [unknown, unknown, unknown]> = {
  c_bit5: ['21', '0', null],
  c_bit64: ['18446744073709551615', '9223372036854775809', null],
  c_where: ['POINT(139.6917 35.6895)', 'POINT(-0.5 -89.25)', null],
  c_shape: ['POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))', 'LINESTRING(1.5 -2,1e21 0.1)', null],
  c_dt: ['2024-02-29 23:59:59.123456', '1000-01-01 00:00:00', null],
  c_ts: ['2038-01-19 03:14:07.999999', '1970-01-01 00:00:01.000001', null],
  c_name: ['Ünïcødé 😀', '', null],
  c_hidden: ['7', '-1', null],
  c_virtual: ['14', '-2', null],
  c_stored: ['ÜNÏCØDÉ 😀!', '!', null],
  c_ubig: ['18446744073709551615', '0', null],
  c_flag: ['2', '0', null],
  c_coll: ['GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))', 'GEOMETRYCOLLECTION EMPTY', null],
};

const config = testConfig(
  'it-types',
  {
    // One table per dataset: two syncs creating one dataset at once get the emulator's internalError.
    mysql8: { type: 'mysql', url: '${TEST_MYSQL8_URL}', dataset: 'it_types_mysql8', tables: [TYPES_TABLE.name] },
    mysql8json: { type: 'mysql', url: '${TEST_MYSQL8_URL}', dataset: 'it_types_mysql8_json', tables: [JSON_TABLE.name] },
    shop: mysqlSource('it_types_shop', { tables: ['x_types_my'] }),
    billing: postgresSource('it_types_billing', { tables: ['x_types_pg'] }),
    strict: mysqlSource('it_types_strict', { tables: [{ name: 'x_types_my', invalidValues: 'fail' }] }),
  },
  { ittypes: { sources: ['shop', 'billing', 'mysql8', 'mysql8json'] }, ittypesstrict: { sources: ['strict'] } },
);

let worker: RunningWorker;
let summary: RunSummary;
let file: string;
let mysql8: FakeMysql8;

beforeAll(async () => {
  const my = await mysqlConnection();
  await my.query("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'"); // lets the zero dates in
  await my.query('DROP TABLE IF EXISTS x_types_my');
  await my.query(MYSQL_DDL);
  for (const row of MYSQL_ROWS) await my.query(`INSERT INTO x_types_my VALUES ${row}`);
  await my.end();
  const pg = await postgresClient();
  for (const ddl of PG_DDL) await pg.query(ddl);
  for (const row of PG_ROWS) await pg.query(`INSERT INTO x_types_pg VALUES ${row}`);
  await pg.end();

  mysql8 = await startFakeMysql8({ schema: 'shop', tables: [TYPES_TABLE, JSON_TABLE] });
  file = writeConfig(config);
  worker = await startWorker(file, { TEST_MYSQL8_URL: mysql8.url });
  const res = await runCli(['--config', file, 'run', 'ittypes', '--wait'], { TEST_MYSQL8_URL: mysql8.url });
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  const client = await temporalClient();
  summary = await client.workflow.getHandle('bqsync-ittypes').result();
  await client.connection.close();
});

afterAll(async () => {
  await worker?.stop();
  await mysql8?.close();
});

test('every MariaDB type arrives with its value', async () => {
  const rows = await bqRows(`SELECT * FROM \`${BIGQUERY_PROJECT}.it_types_shop.x_types_my\` ORDER BY id`);
  expect(rows).toHaveLength(3);
  compare(rows, MYSQL_EXPECTED, ['c_binary', 'c_varbinary', 'c_blob']);
});

test('every MySQL 8 column kind arrives with its value (from the protocol fake)', async () => {
  const rows = await bqRows(`SELECT * FROM \`${BIGQUERY_PROJECT}.it_types_mysql8.${TYPES_TABLE.name}\` ORDER BY id`);
  expect(rows).toHaveLength(3);
  compare(rows, MYSQL8_EXPECTED, []);
  const docs = await bqRows(`SELECT * FROM \`${BIGQUERY_PROJECT}.it_types_mysql8_json.${JSON_TABLE.name}\` ORDER BY id`);
  compare(docs, { doc: ['{"name":"José"}', '[1,"日本",{"emoji":"😀"},12345678901234567890]', null] }, []);
});

test('every PostgreSQL type arrives with its value', async () => {
  const rows = await bqRows(`SELECT * FROM \`${BIGQUERY_PROJECT}.it_types_billing.x_types_pg\` ORDER BY id`);
  expect(rows).toHaveLength(3);
  compare(rows, PG_EXPECTED, ['c_bytea']);
});

test('values BigQuery cannot hold are NULL, counted per column in the result', () => {
  const my = summary.results.find((r) => r.key === 'shop.x_types_my')!;
  expect(my.nulledValues).toEqual({ c_date: 1, c_datetime: 1 });
  const pg = summary.results.find((r) => r.key === 'billing.x_types_pg')!;
  expect(pg.nulledValues).toEqual({ c_num_40_10: 1, c_date: 1, c_time: 1, c_ts: 1 });
});

test('with invalidValues: fail the table fails and names the columns, and nothing is loaded', async () => {
  const res = await runCli(['--config', file, 'run', 'ittypesstrict', '--wait']);
  expect(res.code).toBe(1);
  expect(res.stdout).toContain(
    'UnrepresentableValues: strict.x_types_my: values BigQuery cannot hold (zero dates, infinity, out-of-range years, NaN decimals): column c_date: 1, column c_datetime: 1',
  );
  const client = await temporalClient();
  const err = await client.workflow
    .getHandle('bqsync-ittypesstrict')
    .result()
    .then(() => undefined, (e: unknown) => e)
    .finally(() => client.connection.close());
  expect(summaryFromFailure(err)?.failed).toBe(1);
  const [exists] = await bigQuery().dataset('it_types_strict').table('x_types_my').exists();
  expect(exists).toBe(false);
});
