import type { RunSummary } from '../../common/payloads';
import { generatedTables } from '../../demo/seed';
import { normalize } from '../helpers/compare';
import { BIGQUERY_PROJECT, TEMPORAL_UI_URL, TEST_TABLES } from '../helpers/env';
import {
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

// The whole seeded schema of both sources (124 tables each), as the nightly run does it.
const config = testConfig(
  'it-nightly',
  {
    shop: mysqlSource('it_shop', {
      concurrency: 4,
      discover: { include: ['*'], exclude: ['_*', 'x_*'] },
      tables: [
        { name: 'orders', after: ['shop.customers'], owner: 'shop-team', impact: 'revenue mart goes stale' },
        { name: 'order_items', after: ['shop.orders'] },
      ],
    }),
    billing: postgresSource('it_billing', { concurrency: 4, discover: { include: ['*'], exclude: ['_*', 'x_*'] } }),
  },
  {
    itnightly: {
      sources: ['shop', 'billing'],
      concurrency: 8,
      steps: [
        {
          name: 'revenue_by_day',
          after: ['shop.orders', 'billing.invoices'],
          dataset: 'it_marts',
          sql: 'CREATE OR REPLACE TABLE `{{project}}.{{dataset}}.revenue_by_day` AS SELECT DATE(ordered_at) AS day, SUM(total) AS revenue FROM `{{project}}.{{datasets.shop}}.orders` GROUP BY day',
        },
      ],
    },
  },
);

let worker: RunningWorker;
let summary: RunSummary;
let cliOutput: string;

beforeAll(async () => {
  const file = writeConfig(config);
  worker = await startWorker(file);
  const res = await runCli(['--config', file, 'run', 'itnightly', '--wait']);
  cliOutput = res.stdout + res.stderr;
  expect(res.code).toBe(0);
  const client = await temporalClient();
  summary = await client.workflow.getHandle('bqsync-itnightly').result();
  await client.connection.close();
});

afterAll(async () => {
  await worker?.stop();
});

test('every table of both sources and the SQL step succeed, and the CLI says so', () => {
  const tables = summary.results.filter((r) => r.kind === 'table');
  expect(tables).toHaveLength(2 * TEST_TABLES);
  expect(summary.results.filter((r) => r.status !== 'succeeded')).toEqual([]);
  expect(summary.results.find((r) => r.key === 'revenue_by_day')?.status).toBe('succeeded');
  expect(cliOutput).toContain(`pipeline itnightly: ${2 * TEST_TABLES + 1} succeeded, 0 failed, 0 skipped`);
  expect(cliOutput).toContain(`Web UI: ${TEMPORAL_UI_URL}/namespaces/default/workflows/bqsync-itnightly/`);
});

/**
 * COUNT(*) of each table of a dataset, in one query: the emulator, holding 248 tables
 * after the run, takes about a second per call, and a query per table took minutes.
 */
async function bqCounts(dataset: string, tables: string[]): Promise<Map<string, number>> {
  const sql = tables
    .map((t) => `SELECT '${t}' AS t, COUNT(*) AS n FROM \`${BIGQUERY_PROJECT}.${dataset}.${t}\``)
    .join('\nUNION ALL\n');
  return new Map((await bqRows(sql)).map((r) => [String(r.t), Number(r.n)]));
}

test('row counts in BigQuery equal the source tables, table by table', async () => {
  const my = await mysqlConnection();
  const pg = await postgresClient();
  try {
    const mismatches: string[] = [];
    const tables = summary.results.filter((x) => x.kind === 'table').map((r) => r.key.split('.'));
    const landed = {
      shop: await bqCounts('it_shop', tables.filter(([s]) => s === 'shop').map(([, t]) => t)),
      billing: await bqCounts('it_billing', tables.filter(([s]) => s === 'billing').map(([, t]) => t)),
    };
    for (const r of summary.results.filter((x) => x.kind === 'table')) {
      const [source, table] = r.key.split('.');
      const expected =
        source === 'shop'
          ? Number(((await my.query(`SELECT COUNT(*) AS n FROM \`${table}\``))[0] as { n: string }[])[0].n)
          : Number((await pg.query(`SELECT COUNT(*) AS n FROM "${table}"`)).rows[0].n);
      const actual = landed[source as 'shop' | 'billing'].get(table);
      if (expected !== actual || r.rowsLoaded !== expected) mismatches.push(`${r.key}: source ${expected}, BigQuery ${actual}, reported ${r.rowsLoaded}`);
    }
    expect(mismatches).toEqual([]);
  } finally {
    await my.end();
    await pg.end();
  }
});

test('tables wait for the tables named in after:, and the step for its inputs', () => {
  const at = (key: string) => summary.results.find((r) => r.key === key)!;
  const end = (key: string) => Date.parse(at(key).startedAt!) + at(key).durationMs!;
  expect(Date.parse(at('shop.orders').startedAt!)).toBeGreaterThanOrEqual(end('shop.customers'));
  expect(Date.parse(at('shop.order_items').startedAt!)).toBeGreaterThanOrEqual(end('shop.orders'));
  expect(Date.parse(at('revenue_by_day').startedAt!)).toBeGreaterThanOrEqual(Math.max(end('shop.orders'), end('billing.invoices')));
});

test('the SQL step built its mart from the landed table', async () => {
  const [mart] = await bqRows(`SELECT SUM(revenue) AS total FROM \`${BIGQUERY_PROJECT}.it_marts.revenue_by_day\``);
  const my = await mysqlConnection();
  const [rows] = await my.query('SELECT SUM(total) AS total FROM orders');
  await my.end();
  expect(normalize(String(mart.total))).toBe(normalize((rows as { total: string }[])[0].total));
});

// A ledger table of 1,000 rows: decimals, unicode, dates, microseconds, zones, JSON.
const ledger = generatedTables(TEST_TABLES - 4).find((t) => t.family === 'ledger' && t.rows === 1000)!.name;
const ledgerColumns = ['id', 'account_no', 'amount', 'big_amount', 'memo', 'booked_on', 'booked_at', 'updated_at', 'is_reversal', 'attrs'];
const sampleIds = [1, 2, 3, 499, 1000];

function sameRows(source: Record<string, unknown>[], bigquery: Record<string, unknown>[]) {
  const norm = (rows: Record<string, unknown>[]) =>
    rows.map((r) => Object.fromEntries(ledgerColumns.map((c) => [c, normalize(r[c])])));
  expect(norm(bigquery)).toEqual(norm(source));
}

test('sampled MariaDB rows arrive with the same values', async () => {
  const my = await mysqlConnection();
  const [src] = await my.query(`SELECT ${ledgerColumns.join(', ')} FROM \`${ledger}\` WHERE id IN (?) ORDER BY id`, [sampleIds]);
  await my.end();
  const dst = await bqRows(
    `SELECT ${ledgerColumns.join(', ')} FROM \`${BIGQUERY_PROJECT}.it_shop.${ledger}\` WHERE id IN (${sampleIds.join(',')}) ORDER BY id`,
  );
  expect(dst).toHaveLength(sampleIds.length);
  sameRows(src as Record<string, unknown>[], dst);
  // tinyint(1) holding 2 stays 2, not TRUE.
  expect(dst.map((r) => Number(r.is_reversal))).toEqual(sampleIds.map((id) => id % 3));
});

test('sampled PostgreSQL rows arrive with the same values', async () => {
  const pg = await postgresClient();
  const cols = ledgerColumns.map((c) => (['booked_at', 'updated_at', 'booked_on', 'amount', 'big_amount'].includes(c) ? `${c}::text AS ${c}` : c));
  const src = await pg.query(`SELECT ${cols.join(', ')} FROM "${ledger}" WHERE id = ANY($1) ORDER BY id`, [sampleIds]);
  await pg.end();
  const dst = await bqRows(
    `SELECT ${ledgerColumns.join(', ')} FROM \`${BIGQUERY_PROJECT}.it_billing.${ledger}\` WHERE id IN (${sampleIds.join(',')}) ORDER BY id`,
  );
  sameRows(
    src.rows.map((r) => ({ ...r, id: String(r.id), account_no: String(r.account_no) })),
    dst,
  );
});
