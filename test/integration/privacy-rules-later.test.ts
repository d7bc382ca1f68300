/**
 * Personal-data rules added to a table whose clear values already sit in BigQuery: a merge
 * table is loaded in clear, then `hash`, `mask` and `exclude` are added to its config and
 * the worker restarted with it. Only one source row changes after that, so a MERGE alone
 * would leave the other rows' clear values where they are.
 *
 * Proves: after the next run no row in BigQuery holds a clear value of a ruled column
 * (compared row by row with the source: the HMAC of each email, each phone masked, the
 * excluded column NULL or gone) and the table's result says why it was rebuilt; a run
 * without a change of rules merges as before; hashing a merge key column is refused by
 * `bqsync validate` and at run time, with the reason.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import { stringify } from 'yaml';
import { BIGQUERY_PROJECT } from '../helpers/env';
import { bqRows, mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';

const DATASET = 'it_priv_later';
const TABLE = 'x_priv_people';
const HASH_KEY = 'privacy-test-key-0123456789';
const ROWS = 30;

type Row = Record<string, unknown>;

const tableEntry = (columns?: object, extra: object = {}) => ({
  name: TABLE,
  mode: 'merge',
  cursor: 'updated_at',
  ...(columns && { columns }),
  ...extra,
});

const configWith = (entry: object) =>
  testConfig('it-priv-later', { shop: mysqlSource(DATASET, { tables: [entry] }) }, { itprivlater: { sources: ['shop'] } });

let file: string;
let worker: RunningWorker | undefined;
let rulesRun: { code: number | null; stdout: string; stderr: string };
let firstRows: Row[];

async function restartWorker(config: object): Promise<void> {
  await worker?.stop();
  fs.writeFileSync(file, stringify(config));
  worker = await startWorker(file, { BQSYNC_HASH_KEY: HASH_KEY });
}

async function sourceRows(): Promise<Row[]> {
  const my = await mysqlConnection();
  try {
    const [rows] = await my.query(`SELECT id, email, phone, ssn, note FROM ${TABLE} ORDER BY id`);
    return rows as Row[];
  } finally {
    await my.end();
  }
}

async function destinationRows(): Promise<Row[]> {
  return bqRows(`SELECT * FROM \`${BIGQUERY_PROJECT}.${DATASET}.${TABLE}\` ORDER BY id`);
}

const hmac = (value: string) => createHmac('sha256', HASH_KEY).update(value).digest('hex');
const masked = (value: string) => '*'.repeat(value.length - 4) + value.slice(-4);

beforeAll(async () => {
  const my = await mysqlConnection();
  try {
    await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await my.query(
      `CREATE TABLE ${TABLE} (id INT PRIMARY KEY, email VARCHAR(100), phone VARCHAR(30), ssn VARCHAR(20), note VARCHAR(40), updated_at DATETIME(6) NOT NULL)`,
    );
    await my.query(
      `INSERT INTO ${TABLE} SELECT seq, CONCAT('person', seq, '@example.com'), CONCAT('+81-90-1234-', LPAD(seq, 4, '0')), ` +
        `CONCAT('123-45-', LPAD(seq, 4, '0')), CONCAT('note ', seq), '2026-01-01 00:00:00' FROM seq_1_to_${ROWS}`,
    );
  } finally {
    await my.end();
  }
  file = writeConfig(configWith(tableEntry()));
  await restartWorker(configWith(tableEntry()));
  const first = await runCli(['--config', file, 'run', 'itprivlater', '--wait']);
  expect(first.stdout).toContain('pipeline itprivlater: 1 succeeded, 0 failed, 0 skipped');
  firstRows = await destinationRows();

  // Two rows change and are merged in clear: the cursor moves past the other 28 rows,
  // which the merge's read (from the cursor minus the overlap) will not see again.
  const my2 = await mysqlConnection();
  await my2.query(`UPDATE ${TABLE} SET note = 'changed', updated_at = '2026-02-01 00:00:00' WHERE id IN (3, 4)`);
  const second = await runCli(['--config', file, 'run', 'itprivlater', '--wait']);
  expect(second.stdout).toContain('pipeline itprivlater: 1 succeeded, 0 failed, 0 skipped');
  await my2.query(`UPDATE ${TABLE} SET note = 'changed again', updated_at = '2026-03-01 00:00:00' WHERE id = 6`);
  await my2.end();
  await restartWorker(configWith(tableEntry({ hash: ['email'], mask: ['phone'], exclude: ['ssn'] })));
  rulesRun = await runCli(['--config', file, 'run', 'itprivlater', '--wait']);
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  const my = await mysqlConnection();
  await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await my.end();
});

describe('privacy rules added later', () => {
  test('the first load, before the rules, holds the clear values', () => {
    expect(firstRows).toHaveLength(ROWS);
    expect(firstRows[0]).toMatchObject({ email: 'person1@example.com', phone: '+81-90-1234-0001', ssn: '123-45-0001' });
    expect(rulesRun.stdout).toContain('pipeline itprivlater: 1 succeeded, 0 failed, 0 skipped');
  });

  test('after hash, mask and exclude are added, no row in BigQuery holds a clear value', async () => {
    const source = await sourceRows();
    const destination = await destinationRows();
    expect(destination).toHaveLength(ROWS);
    expect(source).toHaveLength(ROWS);
    const clear = new Set(source.flatMap((r) => [r.email, r.phone, r.ssn].map(String)));
    for (const [i, row] of destination.entries()) {
      const src = source[i];
      expect(Number(row.id)).toBe(src.id);
      expect(row.email).toBe(hmac(String(src.email)));
      expect(row.phone).toBe(masked(String(src.phone)));
      // Excluded: gone from the table on BigQuery, NULL on the emulator (it keeps a table's first schema).
      expect(row.ssn ?? null).toBeNull();
      expect(row.note).toBe(src.note);
      for (const value of Object.values(row)) expect(clear.has(String(value))).toBe(false);
    }
  });

  test("the table's result says why it was rebuilt", () => {
    expect(rulesRun.stdout).toContain('column rules changed since the last load');
  });

  test('the next run with the same rules merges as before, and the values stay hashed and masked', async () => {
    const my = await mysqlConnection();
    await my.query(`UPDATE ${TABLE} SET email = 'new@example.com', updated_at = '2026-04-01 00:00:00' WHERE id = 5`);
    await my.end();
    const third = await runCli(['--config', file, 'run', 'itprivlater', '--wait']);
    expect(third.stdout).toContain('pipeline itprivlater: 1 succeeded, 0 failed, 0 skipped');
    expect(third.stdout).not.toContain('column rules changed');
    const rows = await destinationRows();
    expect(rows).toHaveLength(ROWS);
    expect(rows[4].email).toBe(hmac('new@example.com'));
    expect(rows[0].email).toBe(hmac('person1@example.com'));
  }, 120_000);

  test('hashing a merge key column is refused by validate, with the reason', async () => {
    const bad = writeConfig(configWith(tableEntry({ hash: ['id'] }, { key: ['id'] })));
    const result = await runCli(['--config', bad, 'validate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('key column "id" cannot be under columns.hash');
    expect(result.stderr).toContain('a merge finds rows by their key');
  });

  test('hashing the primary key of a merge table is refused at run time, with the reason', async () => {
    await restartWorker(configWith(tableEntry({ hash: ['id', 'email'] })));
    const before = await destinationRows();
    const run = await runCli(['--config', file, 'run', 'itprivlater', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/shop\.x_priv_people\s+failed.*ConfigError: shop\.x_priv_people: key column "id" cannot be hashed/);
    expect(run.stdout).toContain('a merge finds rows by their key');
    // Nothing was written.
    expect(await destinationRows()).toEqual(before);
  }, 120_000);
});
