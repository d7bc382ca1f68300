/**
 * MySQL 8.0 / Aurora MySQL 3 as the MySQL driver meets it on the wire. No MySQL 8 server can
 * be installed here, so the server is a protocol-level FAKE (test/helpers/fake-mysql8.ts)
 * that sends the column definitions, character sets and row bytes MySQL 8.0 sends; the
 * driver (sources/mysql/) reads from it exactly as from a server, and each value is
 * checked as it lands in the NEWLINE_DELIMITED_JSON load file (bigquery/row-encoder.ts).
 */
import { mysqlDriver } from '../../sources/mysql/driver';
import { SourceConnectionLost } from '../../sources/connection-lost';
import type { SourceConnection } from '../../sources/driver';
import { bigQueryColumn } from '../../bigquery/types';
import { RowEncoder } from '../../bigquery/row-encoder';
import { FakeMysql8, startFakeMysql8 } from '../helpers/fake-mysql8';
import { JSON_TABLE, TYPES_TABLE, utf8 } from '../helpers/mysql8-tables';

let fake: FakeMysql8;
let conn: SourceConnection | undefined;

beforeAll(async () => {
  fake = await startFakeMysql8({ schema: 'shop', tables: [JSON_TABLE, TYPES_TABLE] });
});
afterEach(async () => {
  await conn?.close();
  conn = undefined;
});
afterAll(() => fake.close());

/** The table read by the driver and encoded as the load file's lines. */
async function loadFileLines(table: string): Promise<string[]> {
  conn = await mysqlDriver.connect(fake.url, {});
  const columns = await conn.describeTable(table);
  const encoder = new RowEncoder(columns.map(bigQueryColumn));
  const lines: string[] = [];
  for await (const batch of conn.streamRows(table, columns)) {
    for (const row of batch as (string | Buffer | null)[][]) lines.push(encoder.encode(row));
  }
  return lines;
}

test('a MySQL 8 JSON column (charset 63) lands as the UTF-8 text it holds, with nothing on stderr', async () => {
  const warn = jest.spyOn(console, 'warn');
  try {
    const lines = await loadFileLines('people_json');
    const warned = warn.mock.calls.length;
    // JSON lands as the raw JSON value (BigQuery's JSON load), its text untouched.
    expect(lines).toEqual([
      '{"id":1,"doc":{"name": "José"}}\n',
      '{"id":2,"doc":[1, "日本", {"emoji": "😀"}, 12345678901234567890]}\n',
      '{"id":3}\n',
    ]);
    expect(warned).toBe(0);
  } finally {
    warn.mockRestore();
  }
});

test('MySQL 8 column kinds land value by value: BIT, GEOMETRY with SRID, DATETIME(6)/TIMESTAMP(6), utf8mb4_0900_ai_ci, invisible and generated columns', async () => {
  const lines = await loadFileLines('mysql8_types');
  const columns = await conn!.describeTable('mysql8_types');
  expect(columns.map((c) => [c.name, bigQueryColumn(c).bigQueryType])).toEqual([
    ['id', 'INT64'],
    ['c_bit5', 'INT64'],
    ['c_bit64', 'NUMERIC'],
    ['c_where', 'STRING'],
    ['c_shape', 'STRING'],
    ['c_dt', 'DATETIME'],
    ['c_ts', 'TIMESTAMP'],
    ['c_name', 'STRING'],
    ['c_hidden', 'INT64'],
    ['c_virtual', 'INT64'],
    ['c_stored', 'STRING'],
    ['c_ubig', 'NUMERIC'],
    ['c_flag', 'INT64'],
    ['c_coll', 'STRING'],
  ]);
  expect(lines.map((l) => JSON.parse(l))).toEqual([
    {
      id: 1,
      c_bit5: 21,
      c_bit64: '18446744073709551615',
      c_where: 'POINT(139.6917 35.6895)',
      c_shape: 'POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))',
      c_dt: '2024-02-29 23:59:59.123456',
      c_ts: '2038-01-19 03:14:07.999999+00:00',
      c_name: 'Ünïcødé 😀',
      c_hidden: 7,
      c_virtual: 14,
      c_stored: 'ÜNÏCØDÉ 😀!',
      c_ubig: '18446744073709551615',
      c_flag: 2,
      c_coll: 'GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))',
    },
    {
      id: 2,
      c_bit5: 0,
      c_bit64: '9223372036854775809',
      c_where: 'POINT(-0.5 -89.25)',
      c_shape: 'LINESTRING(1.5 -2,1e21 0.1)',
      c_dt: '1000-01-01 00:00:00.000000',
      c_ts: '1970-01-01 00:00:01.000001+00:00',
      c_name: '',
      c_hidden: -1,
      c_virtual: -2,
      c_stored: '!',
      c_ubig: '0',
      c_flag: 0,
      c_coll: 'GEOMETRYCOLLECTION EMPTY',
    },
    { id: 3 },
  ]);
  // The invisible column is read by name: MySQL's `SELECT *` would leave it out.
  expect(fake.statements.find((s) => s.includes('bqsync:extract') && s.includes('mysql8_types'))).toContain('`c_hidden` AS `c_hidden`');
});

test('each MySQL 8 session gets UTC, a known sql_mode, long net timeouts, no max_execution_time and fresh TABLE_ROWS, before any read', async () => {
  const before = fake.statements.length;
  conn = await mysqlDriver.connect(fake.url, {});
  expect(fake.statements.slice(before)).toEqual([
    'SELECT @@version AS version, DATABASE() AS db',
    "SET time_zone = '+00:00', sql_mode = 'NO_ENGINE_SUBSTITUTION', net_write_timeout = 3600, net_read_timeout = 3600, max_execution_time = 0, information_schema_stats_expiry = 0",
  ]);
});

/** A read that the fake cuts as a server whose net_write_timeout passed would. */
async function cutRead(answer: 'error' | 'close'): Promise<SourceConnectionLost> {
  const rows = Array.from({ length: 2000 }, (_, i) => [String(i + 1), utf8(`{"n": ${i}}`)]);
  const cutting = await startFakeMysql8({ schema: 'shop', tables: [{ ...JSON_TABLE, rows }], writeTimeout: { afterRows: 1500, answer } });
  try {
    conn = await mysqlDriver.connect(cutting.url, {});
    const columns = await conn.describeTable('people_json');
    let read = 0;
    try {
      for await (const batch of conn.streamRows('people_json', columns)) read += (batch as unknown[]).length;
    } catch (err) {
      expect(read).toBeLessThan(1500);
      return err as SourceConnectionLost;
    }
    throw new Error(`the read of ${read} rows ended without an error`);
  } finally {
    await conn?.close();
    conn = undefined;
    await cutting.close();
  }
}

test('a read cut by net_write_timeout (error 1161) is named so, with the fix', async () => {
  const err = await cutRead('error');
  expect(err).toBeInstanceOf(SourceConnectionLost);
  expect(err.reason).toMatch(/^Got timeout writing communication packets: the server's net_write_timeout passed while rows waited for the worker; the read had paused for up to \d+\.\d s while the worker caught up$/);
  expect(err.fix).toBe(
    'A retry reads the table again. If it repeats, raise net_write_timeout on the source (bqsync sets 3600 s for its own sessions; ' +
      'a proxy in between, or a server that ignores it, keeps a lower one), or let the table load in key ranges ' +
      '(a single integer primary key and chunkRows below its row count), which makes each read shorter',
  );
});

test('a read whose connection the server closed without a word names net_write_timeout as what to look for', async () => {
  const err = await cutRead('close');
  expect(err).toBeInstanceOf(SourceConnectionLost);
  expect(err.reason).toMatch(/^Connection lost: The server closed the connection\.; the read had paused for up to \d+\.\d s while the worker caught up$/);
  expect(err.fix).toContain('If it says "Got timeout writing communication packets", net_write_timeout cut the read while it waited for the worker: raise it on the source, or let the table load in key ranges');
});
