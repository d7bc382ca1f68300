/**
 * The MySQL driver on the real MariaDB (MySQL 8's side of the same is in
 * test/unit/mysql8-protocol.test.ts, against a protocol fake): settings made per connection
 * hold against a login whose own limit would cut the read; a read that the server cuts at
 * net_write_timeout while the worker does not take rows is named so; geometries, read as
 * the server stores them and written as WKT by the driver, read as MariaDB writes them.
 */
import type mysql from 'mysql2/promise';
import { mysqlDriver } from '../../sources/mysql/driver';
import { SourceConnectionLost } from '../../sources/connection-lost';
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
  await admin.query(`DROP TABLE IF EXISTS ${TABLE}, x_driver_geo`);
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
    'SELECT @@time_zone AS tz, @@sql_mode AS mode, @@net_write_timeout AS nwt, @@net_read_timeout AS nrt, @@max_statement_time AS mst',
  )) as unknown as [Record<string, unknown>[]];
  expect(settings).toEqual({ tz: '+00:00', mode: 'NO_ENGINE_SUBSTITUTION', nwt: '3600', nrt: '3600', mst: 0 });
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
