/**
 * MariaDB tables whose key does not start with an integer column (a UUID as text, a UUID as
 * bytes, a composite text-and-time key) read in key ranges between boundary tuples: each
 * lands exact, value by value, and the boundaries (row values) never reach Temporal's
 * history nor the worker's log.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { BIGQUERY_PROJECT } from '../helpers/env';
import { bigQuery, bqRows, mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';

const ROWS = 4000;
const config = testConfig(
  'it-key-bounds',
  {
    shop: mysqlSource('it_key_bounds', {
      concurrency: 3,
      tables: [
        { name: 'x_kb_uuid', chunkRows: 1000, parallelRanges: 3 },
        { name: 'x_kb_bin', chunkRows: 1000, parallelRanges: 3 },
        { name: 'x_kb_comp', chunkRows: 1000, parallelRanges: 3 },
        { name: 'x_kb_dec', chunkRows: 1000, parallelRanges: 3 },
      ],
    }),
  },
  { itkeybounds: { sources: ['shop'], heartbeatTimeout: '10s' } },
);
const file = writeConfig(config);
let worker: RunningWorker | undefined;
let client: Client;

/**
 * Each table: its key, its columns as exact text in MariaDB and in BigQuery (bytes as hex),
 * so that a row read twice, lost, or with a changed space or letter case shows.
 */
const tables = {
  x_kb_uuid: {
    key: ['id'],
    mysql: 'HEX(id), v',
    bigquery: 'TO_HEX(CAST(id AS BYTES)), v',
  },
  x_kb_bin: {
    key: ['id'],
    mysql: 'HEX(id), v',
    bigquery: 'id, v',
  },
  x_kb_comp: {
    key: ['code', 'at'],
    mysql: "HEX(code), DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), v",
    bigquery: "TO_HEX(CAST(code AS BYTES)), FORMAT_DATETIME('%Y-%m-%d %H:%M:%E6S', `at`), v",
  },
  x_kb_dec: {
    key: ['price', 'n'],
    mysql: 'CAST(price AS CHAR), CAST(n AS CHAR), v',
    bigquery: 'CAST(price AS STRING), CAST(n AS STRING), v',
  },
} as const;
type TableName = keyof typeof tables;

beforeAll(async () => {
  await bigQuery().dataset('it_key_bounds').delete({ force: true }).catch(() => undefined);
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_kb_uuid, x_kb_bin, x_kb_comp, x_kb_dec');
  // Case-insensitive: 'é', 'É', 'e' and 'E' sort as one letter, unlike their bytes.
  await my.query('CREATE TABLE x_kb_uuid (id CHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY, v VARCHAR(60))');
  await my.query(`INSERT INTO x_kb_uuid
    SELECT CONCAT(ELT(seq % 4 + 1, 'é', 'É', 'e', 'E'), IF(seq % 2, UPPER(u), u)), CONCAT('uuid row ', seq)
      FROM (SELECT seq, SUBSTR(CONCAT_WS('-', SUBSTR(MD5(seq), 1, 8), SUBSTR(MD5(seq), 9, 4), SUBSTR(MD5(seq), 13, 4), SUBSTR(MD5(seq), 17, 4), SUBSTR(MD5(seq), 21, 12)), 2) AS u
              FROM seq_1_to_${ROWS}) s`);
  // Bytes: leading zeros, trailing spaces and zeros, high bytes.
  await my.query('CREATE TABLE x_kb_bin (id BINARY(16) PRIMARY KEY, v VARCHAR(60))');
  await my.query(`INSERT INTO x_kb_bin
    SELECT UNHEX(CASE seq % 4 WHEN 0 THEN CONCAT('00', SUBSTR(MD5(seq), 3)) WHEN 1 THEN CONCAT(SUBSTR(MD5(seq), 1, 24), '20200000')
                 WHEN 2 THEN CONCAT('ff', SUBSTR(MD5(seq), 3)) ELSE MD5(seq) END), CONCAT('bin row ', seq)
      FROM seq_1_to_${ROWS}`);
  // Codes equal in unicode_ci (PAD SPACE, case, 'ß' = 'ss') over 500 rows each: boundaries fall inside a code.
  await my.query(`CREATE TABLE x_kb_comp (code VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci, at DATETIME(6), v VARCHAR(60),
    PRIMARY KEY (code, at))`);
  await my.query(`INSERT INTO x_kb_comp
    SELECT ELT(seq % 8 + 1, 'a', 'A ', 'ab', 'AB  ', 'abc', 'Äbc', 'ß', 'ss'),
           TIMESTAMP('2024-01-01') + INTERVAL seq SECOND + INTERVAL seq MICROSECOND, CONCAT('comp row ', seq)
      FROM seq_1_to_${ROWS}`);
  // Prices that one double cannot tell apart, and integers past 2^53: compared as doubles,
  // the ranges would overlap or leave gaps.
  await my.query('CREATE TABLE x_kb_dec (price DECIMAL(40,12), n BIGINT, v VARCHAR(60), PRIMARY KEY (price, n))');
  await my.query(`INSERT INTO x_kb_dec
    SELECT 100000000000000000000 + (seq DIV 7) * 0.000000000001, 9007199254740993 + seq % 7 * 2, CONCAT('dec row ', seq)
      FROM seq_1_to_${ROWS}`);
  for (const t of Object.keys(tables)) await my.query(`ANALYZE TABLE ${t}`);
  await my.end();
  client = await temporalClient();
  worker = await startWorker(file);
});

afterAll(async () => {
  await worker?.stop('SIGKILL');
  await client?.connection.close();
});

/** Hex in one case; a decimal without the trailing zeros of its fraction (BigQuery drops them). */
const exactText = (v: string) => (/^-?\d+\.\d+$/.test(v) ? v.replace(/\.?0+$/, '') : v.toLowerCase());

/** Every row, as exact text, sorted by the text (not by any collation). */
async function sourceRows(table: TableName): Promise<string[]> {
  const my = await mysqlConnection();
  try {
    const [rows] = await my.query({ sql: `SELECT ${tables[table].mysql} FROM ${table}`, rowsAsArray: true });
    return (rows as unknown[][]).map((r) => JSON.stringify(r.map((v) => exactText(String(v))))).sort();
  } finally {
    await my.end();
  }
}

async function destinationRows(table: TableName): Promise<string[]> {
  const rows = await bqRows(`SELECT ${tables[table].bigquery} FROM \`${BIGQUERY_PROJECT}.it_key_bounds.${table}\``);
  // The emulator keeps a BYTES value of a JSON load as its base64 text (types.test.ts); BigQuery decodes it.
  const bytes = (v: Buffer) => (process.env.BQSYNC_REAL_BIGQUERY ? v : Buffer.from(v.toString('utf8'), 'base64')).toString('hex');
  return rows.map((r) => JSON.stringify(Object.values(r).map((v) => exactText(Buffer.isBuffer(v) ? bytes(v) : String(v))))).sort();
}

/** The key tuples the ranges start at, as the plan finds them: every 1000th in the key's order. */
async function boundaryValues(table: TableName): Promise<string[]> {
  const key = tables[table].key.join(', ');
  const my = await mysqlConnection();
  try {
    const found: string[] = [];
    for (const offset of [1000, 2000, 3000]) {
      const [rows] = await my.query({ sql: `SELECT ${key} FROM ${table} ORDER BY ${key} LIMIT 1 OFFSET ${offset}`, rowsAsArray: true, dateStrings: true });
      for (const v of (rows as unknown[][])[0]) {
        if (Buffer.isBuffer(v)) found.push(v.toString('hex'), v.toString('base64'));
        // Short codes ('a', 'ss') would be found in any text: the distinctive values only.
        else if (String(v).length >= 8) found.push(String(v));
      }
    }
    return found;
  } finally {
    await my.end();
  }
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

async function tableSyncHistory(key: string): Promise<HistoryEvent[]> {
  for await (const wf of client.workflow.list({ query: `BqsyncTable = '${key}'` })) {
    return (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events!;
  }
  throw new Error(`no table sync of ${key}`);
}

/** The history as text, every payload (base64 in its JSON form) decoded, so that a value in any input or result shows. */
function historyText(events: HistoryEvent[]): string {
  const json = JSON.stringify(events);
  const payloads = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8'));
  expect(payloads.length).toBeGreaterThan(10);
  return [json, ...payloads].join('\n');
}

test.each(Object.keys(tables) as TableName[])('%s: read in key ranges between boundary tuples, exact row by row, no boundary in history or log', async (table) => {
  const res = await runCli(['--config', file, 'sync', `shop.${table}`, '--wait']);
  expect(res.code).toBe(0);
  const ranges = new RegExp(`shop\\.${table}\\s+succeeded\\s+4,000\\s+4,000.*read in (\\d+) key ranges, up to 3 at once`).exec(res.stdout);
  expect(ranges).not.toBeNull();
  expect(Number(ranges![1])).toBeGreaterThanOrEqual(3);

  const source = await sourceRows(table);
  expect(source).toHaveLength(ROWS);
  expect(new Set(source).size).toBe(ROWS);
  expect(await destinationRows(table)).toEqual(source);

  const text = historyText(await tableSyncHistory(`shop.${table}`));
  // The decoded history holds the plan (the boundaries' table's name), but no boundary value.
  expect(text).toMatch(new RegExp(`_${table}_[0-9a-f]{16}_bounds`));
  const bounds = await boundaryValues(table);
  expect(bounds.length).toBeGreaterThanOrEqual(3);
  for (const v of bounds) {
    expect(text).not.toContain(v);
    expect(worker!.output()).not.toContain(v);
  }
  // The staging table and the boundaries' table are gone once the destination has the rows.
  const [left] = await bigQuery().dataset('it_key_bounds').getTables();
  expect(left.map((t) => t.id).filter((id) => id!.startsWith('_bqsync_stage_'))).toEqual([]);
});
