/**
 * The MySQL driver on the real MariaDB (MySQL 8's side of the same is in
 * test/unit/mysql8-protocol.test.ts, against a protocol fake): settings made per connection
 * hold against a login whose own limit would cut the read; a read that the server cuts at
 * net_write_timeout while the worker does not take rows is named so; geometries, read as
 * the server stores them and written as WKT by the driver, read as MariaDB writes them;
 * values of every length the protocol encodes arrive as the bytes the server sent, read as
 * rows or as row bytes for the encoding threads.
 */
import type mysql from 'mysql2/promise';
import { mysqlDriver } from '../../sources/mysql/driver';
import { SourceConnectionLost } from '../../sources/connection-lost';
import { rowTextDecoder } from '../../sources/row-text-decoders';
import type { SourceConnection } from '../../sources/driver';
import { eventually, mysqlConnection } from '../helpers/harness';
import { MYSQL_URL, TEST_DATABASE } from '../helpers/env';

const TABLE = 'x_session_wide';
/** Rows of about 1 KB: 60 MB, more than the kernel buffers between server and client hold. */
const ROWS = 60_000;
const USER = `${TEST_DATABASE}_limited`;
let admin: mysql.Connection;
let conn: SourceConnection | undefined;

beforeAll(async () => {
  admin = await mysqlConnection();
  await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await admin.query(`CREATE TABLE ${TABLE} (id INT PRIMARY KEY, filler VARCHAR(1000) NOT NULL)`);
  await admin.query(`INSERT INTO ${TABLE} SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM seq_1_to_${ROWS}`);
  // A login whose statements the server stops after 0.2 s (MariaDB's per-user MAX_STATEMENT_TIME),
  // as a managed server's parameter group can for every session.
  await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY 'limited-pw' WITH MAX_STATEMENT_TIME 0.2`);
  await admin.query(`GRANT SELECT ON \`${TEST_DATABASE}\`.* TO '${USER}'@'%'`);
});

afterEach(async () => {
  await conn?.close();
  conn = undefined;
});

afterAll(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${TABLE}, x_driver_geo, x_driver_lengths`);
  await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin.end();
});

const limitedUrl = MYSQL_URL.replace('mysql://root@', `mysql://${USER}:limited-pw@`);
/** The driver's own mysql2 connection, to look at its session as the server sees it. */
const session = (c: SourceConnection) => (c as unknown as { conn: { promise(): mysql.Connection } }).conn.promise();

async function readAll(c: SourceConnection): Promise<number> {
  let rows = 0;
  for await (const batch of c.streamRows(TABLE, await c.describeTable(TABLE))) rows += (batch as unknown[]).length;
  return rows;
}

test("a login's statement time limit does not cut the read: the session sets MariaDB's max_statement_time, UTC, sql_mode and net timeouts", async () => {
  // Without the driver's settings this login's read stops at 0.2 s.
  const plain = await (await import('mysql2/promise')).createConnection({ uri: limitedUrl });
  try {
    await expect(plain.query('SELECT SLEEP(0.5)')).rejects.toThrow(/max_statement_time exceeded/);
  } finally {
    await plain.end();
  }
  conn = await mysqlDriver.connect(limitedUrl, {});
  const [[settings]] = (await session(conn).query(
    'SELECT @@time_zone AS tz, @@sql_mode AS mode, @@net_write_timeout AS nwt, @@net_read_timeout AS nrt, @@wait_timeout AS wt, @@max_statement_time AS mst',
  )) as unknown as [Record<string, unknown>[]];
  expect(settings).toEqual({ tz: '+00:00', mode: 'NO_ENGINE_SUBSTITUTION', nwt: '3600', nrt: '3600', wt: '28800', mst: 0 });
  await expect(session(conn).query('SELECT SLEEP(0.5) AS slept')).resolves.toEqual([[{ slept: 0 }], expect.anything()]);
  expect(await readAll(conn)).toBe(ROWS);
});

test('a read that waits for the worker longer than net_write_timeout is cut by the server and named so', async () => {
  conn = await mysqlDriver.connect(MYSQL_URL, {});
  // One second instead of the driver's 3600: a server or proxy that holds a short one.
  await session(conn).query('SET SESSION net_write_timeout = 1');
  const threadId = (conn as unknown as { conn: { threadId: number } }).conn.threadId;
  const rows = conn.streamRows(TABLE, await conn.describeTable(TABLE))[Symbol.asyncIterator]();
  await rows.next(); // one batch, then the worker takes nothing while the server's writes wait
  await eventually(async () => {
    const [found] = (await admin.query('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [threadId])) as unknown as [unknown[]];
    return found.length === 0;
  }, 60_000, 'MariaDB to end the connection whose rows waited');
  let err: unknown;
  try {
    while (!(await rows.next()).done);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SourceConnectionLost);
  const lost = err as SourceConnectionLost;
  console.log(`what the worker says: (${lost.reason}) ${lost.fix}`);
  expect(lost.reason).toMatch(/^Connection lost: The server closed the connection\.; the read had paused for up to \d+\.\d s while the worker caught up$/);
  expect(Number(/up to (\d+\.\d) s/.exec(lost.reason)![1])).toBeGreaterThanOrEqual(1);
  expect(lost.fix).toContain('If it says "Got timeout writing communication packets", net_write_timeout cut the read while it waited for the worker');
});

test("geometries become the WKT MariaDB's ST_AsText writes, shape by shape", async () => {
  const shapes = [
    'POINT(1 2)',
    'POINT(139.6917 35.6895)',
    'POINT(123456789.12345679 -0.000001)',
    'LINESTRING(0 0,1.5 -2,3.141592653589793 2.718281828459045)',
    'POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))',
    'MULTIPOINT(0 0,1.5 -2)',
    'MULTILINESTRING((0 0,1 1),(2 2,3 3))',
    'MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))',
    'GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1),POLYGON((0 0,1 0,1 1,0 0)))',
    'GEOMETRYCOLLECTION EMPTY',
  ];
  await admin.query('DROP TABLE IF EXISTS x_driver_geo');
  await admin.query('CREATE TABLE x_driver_geo (id INT PRIMARY KEY, g GEOMETRY, g4326 GEOMETRY)');
  for (const [i, wkt] of shapes.entries()) {
    await admin.query('INSERT INTO x_driver_geo VALUES (?, ST_GeomFromText(?), ST_GeomFromText(?, 4326))', [i, wkt, wkt]);
  }
  const [expected] = (await admin.query('SELECT ST_AsText(g) AS g, ST_AsText(g4326) AS g4326 FROM x_driver_geo ORDER BY id')) as unknown as [
    { g: string; g4326: string }[],
  ];
  conn = await mysqlDriver.connect(MYSQL_URL, {});
  const read: string[][] = [];
  for await (const batch of conn.streamRows('x_driver_geo', await conn.describeTable('x_driver_geo'))) read.push(...(batch as string[][]));
  read.sort((a, b) => Number(a[0]) - Number(b[0]));
  expect(read.map((r) => [r[1], r[2]])).toEqual(expected.map((e) => [e.g, e.g4326]));
  expect(expected.map((e) => e.g)).toEqual(shapes);
});

test('values of every length the protocol encodes arrive as the bytes the server sent: short and long, ASCII and not, long rows', async () => {
  await admin.query('DROP TABLE IF EXISTS x_driver_lengths');
  await admin.query(
    `CREATE TABLE x_driver_lengths (id INT PRIMARY KEY, t MEDIUMTEXT CHARACTER SET utf8mb4, l VARCHAR(300) CHARACTER SET latin1,
       b MEDIUMBLOB, d DOUBLE, n DECIMAL(20,5), at DATETIME(6), tail VARCHAR(20) CHARACTER SET utf8mb4)`,
  );
  // Byte lengths around the protocol's 1-byte (< 251), 3-byte (< 65536) and 4-byte length
  // forms and around the driver's own limits (values of 12 bytes, rows of 4 KB); the latin1
  // column's text reaches the client as UTF-8, two bytes for each accented letter.
  const values: [string, string][] = [
    ['', ''],
    ['a', 'é'],
    ['x'.repeat(12), 'é'.repeat(6)],
    ['é'.repeat(6), 'y'.repeat(13)],
    ['y'.repeat(13), 'é'.repeat(7)],
    ['z'.repeat(11) + 'é', 'ü'],
    ['x'.repeat(64), 'é'.repeat(32)],
    ['g'.repeat(1900), 'h'.repeat(12)],
    ['i'.repeat(2100), 'j'.repeat(13)],
    ['a'.repeat(250), 'é'.repeat(125)],
    ['b'.repeat(251), 'ß'.repeat(126)],
    ['日'.repeat(84), 'x'],
    ['c'.repeat(16 * 1024), 'ä'],
    ['d'.repeat(65535), 'y'],
    ['e'.repeat(65536), 'z'],
    ['😀'.repeat(17_501), 'Ö'],
    ['f'.repeat(200_000) + '日本', 'å'],
  ];
  for (const [i, [t, l]] of values.entries()) {
    await admin.query('INSERT INTO x_driver_lengths VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      i,
      t,
      l,
      Buffer.from(t, 'utf8'),
      (i + 1) / 7,
      `${i}.12345`,
      `2024-01-0${1 + (i % 9)} 00:00:0${i % 10}.00000${i % 10}`,
      `tail ${i} ✓`,
    ]);
  }
  await admin.query('INSERT INTO x_driver_lengths VALUES (99, NULL, NULL, NULL, NULL, NULL, NULL, NULL)');
  // The bytes the server sends for each value, read by mysql2 on a connection of its own.
  const reference = await (await import('mysql2/promise')).createConnection({ uri: MYSQL_URL, charset: 'utf8mb4' });
  let wireBytes: (string | null)[][];
  try {
    const [rows] = await reference.query({ sql: 'SELECT * FROM x_driver_lengths ORDER BY id', rowsAsArray: true, typeCast: (f) => f.buffer()?.toString('hex') ?? null });
    wireBytes = rows as unknown as (string | null)[][];
  } finally {
    await reference.end();
  }
  conn = await mysqlDriver.connect(MYSQL_URL, {});
  const read: (string | Buffer | null)[][] = [];
  for await (const batch of conn.streamRows('x_driver_lengths', await conn.describeTable('x_driver_lengths'))) read.push(...(batch as (string | Buffer | null)[][]));
  read.sort((a, b) => Number(a[0]) - Number(b[0]));
  // Text is the UTF-8 the server sent; numbers and dates its ASCII text; BLOBs Buffers of its bytes.
  const bytesOf = (v: string | Buffer | null) => (v === null ? null : (typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('hex'));
  expect(read.map((r) => r.map(bytesOf))).toEqual(wireBytes);
  expect(read.map((r) => r.slice(1, 3))).toEqual([...values, [null, null]]);
  expect(read.every((r) => r[3] === null || Buffer.isBuffer(r[3]))).toBe(true);

  // The same read handed on as row bytes, for the encoding threads, decodes to the same values.
  const blocks = conn.streamRowText!('x_driver_lengths', await conn.describeTable('x_driver_lengths'))!;
  const fromBlocks: (string | Buffer | null)[][] = [];
  for await (const block of blocks) rowTextDecoder(blocks.format!).decode(block as Buffer, (row) => fromBlocks.push(row));
  fromBlocks.sort((a, b) => Number(a[0]) - Number(b[0]));
  expect(fromBlocks.map((r) => r.map(bytesOf))).toEqual(wireBytes);
});
