/**
 * The PostgreSQL read through `COPY (SELECT ...) TO STDOUT` (sources/postgres/copy-text.ts),
 * with the driver itself against the test database.
 *
 * Proves: every value reads the same as through the parameter-bound query (the path a
 * `where:` with values keeps), text with tabs, newlines, backslashes and the characters
 * `\N` included; key-range and cursor bounds select exactly the rows a bound parameter
 * selects, on a domain key whose CHECK the range's end violates and on a char(n) cursor;
 * the bounds' values never appear in the SQL the server shows.
 */
import type { Client } from 'pg';
import { postgresDriver } from '../../sources/postgres/driver';
import type { RowFilter, SourceConnection } from '../../sources/driver';
import type { RawValue } from '../../sources/logical-types';
import { POSTGRES_URL } from '../helpers/env';
import { postgresClient } from '../helpers/harness';

const TABLE = 'x_pgcopy_rows';
const NOTES = ['tab\there', 'line\nbreak\r\n', 'back\\slash \\N \\x41', '\\N', '', null, 'Zürich 東京 😀', '\u0001\u0008\u000b\u000c'];

let pg: Client;
let reader: SourceConnection;

beforeAll(async () => {
  pg = await postgresClient();
  await dropAll();
  await pg.query('CREATE DOMAIN x_pgcopy_key AS bigint CHECK (VALUE < 100)');
  await pg.query(`CREATE TABLE ${TABLE} (id x_pgcopy_key PRIMARY KEY, code char(4), at timestamptz(6), note text, flag boolean,
    raw bytea, amount money, tags text[], doc jsonb)`);
  for (let id = 1; id <= 20; id++) {
    await pg.query(`INSERT INTO ${TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      id,
      id % 7 === 0 ? null : ['b', 'bb', 'bc', 'bd', 'a'][id % 5],
      id % 6 === 0 ? null : `2026-03-${String(id).padStart(2, '0')} 01:30:00.${String(id * 7).padStart(6, '0')}+00`,
      NOTES[id % NOTES.length],
      id % 3 === 0 ? null : id % 2 === 0,
      id % 4 === 0 ? null : Buffer.from([0, id, 0x5c, 0x0a, 0x09, 0xff]),
      `${id}.25`,
      id % 5 === 0 ? null : ['a\tb', '\\N', null, `n${id}`],
      { note: NOTES[id % NOTES.length], id },
    ]);
  }
  reader = await postgresDriver.connect(POSTGRES_URL, { schema: 'public' });
});

afterAll(async () => {
  await reader?.close();
  await dropAll().catch(() => undefined);
  await pg?.end();
});

async function dropAll(): Promise<void> {
  await pg.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await pg.query('DROP DOMAIN IF EXISTS x_pgcopy_key');
}

async function read(filter?: RowFilter): Promise<RawValue[][]> {
  const rows: RawValue[][] = [];
  for await (const batch of reader.streamRows(TABLE, await reader.describeTable(TABLE), filter)) rows.push(...batch);
  return rows.sort((a, b) => Number(a[0]) - Number(b[0]));
}

/** The ids a bound parameter selects, as the query path would. */
async function idsWhere(condition: string, values: string[]): Promise<string[]> {
  return (await pg.query(`SELECT id::text AS key FROM ${TABLE} WHERE ${condition} ORDER BY id`, values)).rows.map((r) => r.key as string);
}

const ids = (rows: RawValue[][]) => rows.map((r) => r[0]);

test('every value reads as through the parameter-bound query', async () => {
  const copied = await read();
  // A where: with a value keeps the query path.
  const queried = await read({ condition: { sql: 'id >= {{0}}', values: ['0'] } });
  expect(copied).toHaveLength(20);
  expect(copied).toEqual(queried);
  const notes = copied.map((r) => r[3]);
  expect(notes).toEqual(Array.from({ length: 20 }, (_, i) => NOTES[(i + 1) % NOTES.length]));
  expect(copied[0][5]).toEqual(Buffer.from([0, 1, 0x5c, 0x0a, 0x09, 0xff]));
});

test('key-range bounds select the rows a bound parameter selects, on a domain key whose CHECK the end violates', async () => {
  expect(ids(await read({ column: 'id', from: '5', below: '100' }))).toEqual(await idsWhere('id >= $1 AND id < $2', ['5', '100']));
  expect(ids(await read({ column: 'id', from: '1', below: '6' }))).toEqual(['1', '2', '3', '4', '5']);
  expect(ids(await read({ column: 'id', from: '21' }))).toEqual([]);
});

test('cursor bounds keep their type: char(n) without a length, timestamptz at the microsecond, NULLs with orNull', async () => {
  // As char(1), 'bc' would be 'b' and select 'b' and 'bb' too.
  expect(ids(await read({ column: 'code', from: 'bc', orNull: true }))).toEqual(await idsWhere('(code >= $1 OR code IS NULL)', ['bc']));
  const at = '2026-03-05 01:30:00.000035+00';
  expect(ids(await read({ column: 'at', from: at }))).toEqual(await idsWhere('at >= $1', [at]));
  expect(ids(await read({ column: 'at', from: at }))[0]).toBe('5');
});

test("a where: without values is read through COPY with the range's bounds", async () => {
  const rows = await read({ column: 'id', from: '3', below: '12', condition: { sql: 'id % 2 = 0', values: [] } });
  expect(ids(rows)).toEqual(['4', '6', '8', '10']);
});

test('the values of the bounds are not in the SQL the server shows', async () => {
  const marker = 'bound-value-5f3a';
  reader.holdSnapshot();
  try {
    await read({ column: 'note', from: marker, below: `${marker}z` });
    const shown = (await pg.query(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%bqsync:extract%' AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%'`)).rows;
    expect(shown).toHaveLength(1);
    expect(shown[0].query).toContain('current_setting');
    expect(shown[0].query).not.toContain(marker);
  } finally {
    await reader.endSnapshot();
  }
});
