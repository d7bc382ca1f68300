/**
 * `bqsync import` of a Digdag + Embulk project (test/fixtures/digdag-project: 25 Embulk
 * configs for MySQL and PostgreSQL, 4 workflows), then what an operator does with the
 * result: validate, plan, and run the imported pipelines on the local stack with a session
 * time, every table compared with its source and the SQL steps' session values checked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { BIGQUERY_PROJECT, MYSQL_URL, POSTGRES_URL, TEST_DATABASE } from '../helpers/env';
import { bqRows, bqCount, mysqlConnection, postgresClient, runCli, RunningWorker, startWorker, testConfig } from '../helpers/harness';
import { expectSameRowsAsMysql, expectSameRowsAsPostgres } from '../helpers/same-rows';

const PROJECT = path.join(__dirname, '..', 'fixtures', 'digdag-project');
const TASK_QUEUE = 'it-digdag-import';

/** What the operator sets after reading the import's summary. */
const ENV = {
  GCP_PROJECT: BIGQUERY_PROJECT,
  SHOP_DATABASE: TEST_DATABASE,
  SHOP_MYSQL_URL: MYSQL_URL,
  BILLING_POSTGRES_URL: POSTGRES_URL,
  SHOP_MYSQL_URL_2: MYSQL_URL,
};

/** The tables the Embulk configs each workflow runs name (queries reduced to their table). */
const EXPECTED: Record<string, string[]> = {
  shop_nightly: ['customers', 'orders', 'order_items', 'ledger_004', 'ledger_007', 'ledger_010', 'events_006', 'events_012'].map((t) => `shop_nightly.${t}`),
  billing_nightly: ['invoices', 'payments', 'accounts', 'ledger_016', 'catalog_017', 'events_018', 'ledger_019', 'catalog_020', 'events_021', 'ledger_022', 'events_024'].map((t) => `billing.${t}`),
  catalog_hourly: ['catalog_008', 'catalog_011', 'catalog_014'].map((t) => `shop.${t}`),
  // SQL steps only, after billing_nightly's tables (require>).
  billing_marts: [],
};

let dir: string;
let file: string;
let imported: { valid: boolean; pipelines: Record<string, string[]>; notes: { file: string; line?: number; kind: string; what: string }[] };
let worker: RunningWorker | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-import-'));
  file = path.join(dir, 'bqsync.yaml');
  const res = await runCli(['import', PROJECT, '-o', file, '--json'], ENV);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  imported = JSON.parse(res.stdout);
  // The operator's own settings: the Temporal server and, here, the emulator.
  const config = parse(fs.readFileSync(file, 'utf8'));
  const stack = testConfig(TASK_QUEUE, {}, {}) as { temporal: object; bigquery: object };
  fs.writeFileSync(file, stringify({ ...config, temporal: stack.temporal, bigquery: { ...(stack.bigquery as object), project: config.bigquery.project } }));
});

afterAll(async () => {
  await worker?.stop();
});

test('the import passes validate, holds no password, and reports what it did not carry over by file and line', async () => {
  expect(imported.valid).toBe(true);
  const text = fs.readFileSync(file, 'utf8');
  expect(text).not.toContain('s3cr3t');
  expect(text).not.toMatch(/password/i);
  const validate = await runCli(['validate', '--config', file], ENV);
  expect(validate.stderr).toBe('');
  expect(validate.code).toBe(0);
  const report = fs.readFileSync(path.join(dir, 'bqsync-import-report.md'), 'utf8');
  const noted = (f: string, line: number, what: string) =>
    expect(imported.notes).toEqual(expect.arrayContaining([expect.objectContaining({ file: f, line, what: expect.stringContaining(what) })]));
  noted('embulk/billing/fx_rates.yml', 3, 'in: type: file');
  noted('embulk/shop/customer_orders.yml.liquid', 3, 'query: SELECT c.id');
  noted('shop_nightly.dig', 8, 'sla: +notice');
  noted('catalog_hourly.dig', 17, 'py>');
  noted('embulk/shop/ledger_013.yml', 6, 'password');
  noted('embulk/common/_shop_in.yml.liquid', 8, 'options:');
  expect(report).toContain('## embulk/shop/ledger_013.yml');
});

test('bqsync plan on the result shows the tables the Embulk configs named', async () => {
  for (const [pipeline, tables] of Object.entries(EXPECTED)) {
    const res = await runCli(['plan', pipeline, '--config', file, '--json'], ENV);
    expect(res.stderr).toBe('');
    const plan = JSON.parse(res.stdout) as { tables: { key: string }[]; steps: { key: string }[] };
    expect(plan.tables.map((t) => t.key).sort()).toEqual([...tables].sort());
  }
  expect(imported.pipelines.embulk).toEqual(['shop_embulk.ledger_013']);
});

test('the imported pipelines run: every table holds its source rows, and the SQL steps see the session dates', async () => {
  worker = await startWorker(file, { ...ENV, BQSYNC_REQUIRES_POLL_MS: '1000' });
  const runs = await Promise.all([
    // Waits for billing_nightly's run of the same session date to land its tables.
    runCli(['run', 'billing_marts', '--wait', '--session-time', '2024-06-01', '--config', file], ENV),
    runCli(['run', 'shop_nightly', '--wait', '--session-time', '2025-01-10', '--config', file], ENV),
    runCli(['run', 'billing_nightly', '--wait', '--session-time', '2024-06-01', '--config', file], ENV),
    runCli(['run', 'catalog_hourly', '--wait', '--config', file], ENV),
  ]);
  for (const r of runs) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });

  // shop (MariaDB): ledger_007 is one slice, from the session date (Tokyo) on; catalog_014 the query's rows.
  const mysqlTables: [string, string?][] = [
    ['customers'], ['orders'], ['ledger_004'], ['ledger_007', "booked_on >= '2025-01-10'"], ['ledger_010'],
    ['events_006'], ['events_012'], ['catalog_008'], ['catalog_011'], ['catalog_014', "status <> 'retired'"],
  ];
  for (const [table, where] of mysqlTables) await expectSameRowsAsMysql(table, 'shop_raw', ['id'], { where });
  await expectSameRowsAsMysql('orders', 'shop_raw', ['id', 'customer_id', 'total', 'status']);
  await expectSameRowsAsMysql('customers', 'shop_raw', ['id', 'name', 'email', 'country']);
  const my = await mysqlConnection();
  try {
    const [[items]] = (await my.query('SELECT COUNT(*) AS n FROM order_items')) as unknown as [{ n: number }[]];
    expect(await bqCount('shop_raw', 'order_items')).toBe(Number(items.n));
    const [[sales]] = (await my.query("SELECT COUNT(DISTINCT DATE(ordered_at)) AS days, SUM(total) AS revenue FROM orders WHERE ordered_at < '2025-01-10'")) as unknown as [{ days: number; revenue: string }[]];
    const daily = await bqRows(`SELECT CAST(session AS STRING) AS session, CAST(session_day AS STRING) AS session_day, CAST(MAX(day) AS STRING) AS last_day,
        CAST(COUNT(*) AS STRING) AS days, CAST(SUM(revenue) AS STRING) AS revenue
      FROM \`${BIGQUERY_PROJECT}.marts.daily_sales\` GROUP BY session, session_day`);
    expect(daily).toEqual([{ session: '20250110', session_day: '2025-01-10', last_day: '2025-01-09', days: String(sales.days), revenue: String(Number(sales.revenue)) }]);
  } finally {
    await my.end();
  }
  // billing (PostgreSQL); events_024 from last_session_date (2024-05-31, the cron's previous day) on.
  const pg = await postgresClient();
  try {
    for (const table of EXPECTED.billing_nightly.map((k) => k.split('.')[1])) {
      const where = table === 'events_024' ? "occurred_at >= '2024-05-31'" : undefined;
      await expectSameRowsAsPostgres(table, 'billing_raw', ['id'], { where });
    }
    await expectSameRowsAsPostgres('invoices', 'billing_raw', ['id', 'amount', 'currency']);
    const monthly = await bqRows(`SELECT DISTINCT CAST(through AS STRING) AS through FROM \`${BIGQUERY_PROJECT}.marts.billing_monthly\``);
    expect(monthly).toEqual([{ through: '2024-05-31' }]);
  } finally {
    await pg.end();
  }
});
