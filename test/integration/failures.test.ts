import { MYSQL_URL, POSTGRES_URL, TEMPORAL_UI_URL } from '../helpers/env';
import {
  bqCount,
  mysqlConnection,
  mysqlSource,
  postgresSource,
  runCli,
  RunningWorker,
  startWorker,
  failedRunSummary,
  temporalClient,
  testConfig,
  writeConfig,
  CliResult,
} from '../helpers/harness';
import { createSmallTables } from '../helpers/source-tables';
import type { RunSummary } from '../../common/payloads';

// One table with a column BigQuery cannot name, one that does not exist, one that waits
// for the broken one, and healthy tables beside them.
const config = testConfig(
  'it-failures',
  {
    shop: mysqlSource('it_fail_shop', {
      tables: ['customers', 'x_bad_columns', 'x_missing', { name: 'x_after_bad', after: ['shop.x_bad_columns'] }],
    }),
    billing: postgresSource('it_fail_billing', { tables: ['accounts'] }),
  },
  {
    itfail: {
      sources: ['shop', 'billing'],
      steps: [{ name: 'needs_bad', after: ['shop.x_bad_columns'], sql: 'SELECT 1' }],
    },
  },
);

let worker: RunningWorker;
let cli: CliResult;
let summary: RunSummary;

beforeAll(async () => {
  await createSmallTables(['x_after_bad']);
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_bad_columns, x_missing');
  await my.query('CREATE TABLE x_bad_columns (id INT PRIMARY KEY, `bad-name` INT)');
  await my.query('INSERT INTO x_bad_columns VALUES (1, 1), (2, 2)');
  await my.end();
  const file = writeConfig(config);
  worker = await startWorker(file);
  cli = await runCli(['--config', file, 'run', 'itfail', '--wait']);
  summary = await failedRunSummary('bqsync-itfail');
});

afterAll(async () => {
  await worker?.stop();
});

test('the run fails as a whole, and the CLI shows each failure with what to do', () => {
  expect(cli.code).toBe(1);
  expect(cli.stdout).toMatch(/shop\.x_bad_columns\s+failed.*SchemaError: shop\.x_bad_columns: column "bad-name" cannot be a BigQuery column name/);
  expect(cli.stdout).toMatch(/shop\.x_missing\s+failed.*SourceTableMissing: shop\.x_missing: the table does not exist at the source/);
  expect(cli.stdout).toMatch(/shop\.x_after_bad\s+skipped.*skipped: shop\.x_bad_columns did not succeed/);
  expect(cli.stdout).toMatch(/needs_bad\s+skipped/);
  expect(cli.stdout).toContain('pipeline itfail: 2 succeeded, 2 failed, 2 skipped');
  expect(cli.stderr).toContain('run failed: 2 of 6 tables/steps failed');
});

test('the healthy tables landed in full beside the failed ones', async () => {
  expect(summary.results.find((r) => r.key === 'shop.customers')?.status).toBe('succeeded');
  expect(await bqCount('it_fail_shop', 'customers')).toBe(2000);
  expect(await bqCount('it_fail_billing', 'accounts')).toBe(3000);
});

test('a failed table is one search-attribute filter away in Temporal, and failed fast', async () => {
  const client = await temporalClient();
  try {
    const found = [];
    for await (const wf of client.workflow.list({ query: `BqsyncTable = 'shop.x_bad_columns' AND BqsyncOutcome = 'failed'` })) {
      found.push(wf);
    }
    expect(found).toHaveLength(1);
    expect(found[0].status.name).toBe('FAILED');
    // A schema error is not retried: the activity ran once.
    const history = await client.workflow.getHandle(found[0].workflowId).fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncTable');
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    const failed = history.events!.find((e) => e.activityTaskFailedEventAttributes);
    expect(scheduled).toHaveLength(1);
    expect(started.find((e) => String(e.activityTaskStartedEventAttributes!.scheduledEventId) === String(scheduled[0].eventId))?.activityTaskStartedEventAttributes?.attempt).toBe(1);
    expect(failed?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.nonRetryable).toBe(true);
  } finally {
    await client.connection.close();
  }
});

test('no connection string reaches workflow history', async () => {
  const client = await temporalClient();
  try {
    const ids = ['bqsync-itfail', ...summary.results.filter((r) => r.workflowId).map((r) => r.workflowId!)];
    for (const id of ids) {
      const history = JSON.stringify(await client.workflow.getHandle(id).fetchHistory());
      const decoded = history.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
      expect(decoded).not.toContain(MYSQL_URL);
      expect(decoded).not.toContain(POSTGRES_URL);
      expect(decoded).not.toMatch(/mysql:\/\/|postgres:\/\//);
    }
  } finally {
    await client.connection.close();
  }
});

test('bqsync failures lists each failed table with type, message, attempts and link', async () => {
  const file = writeConfig(config);
  const text = await runCli(['--config', file, 'failures', '--since', '1h']);
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/shop\.x_bad_columns \(itfail\) failed .* after 1 attempt\(s\)/);
  expect(text.stdout).toContain('SchemaError: shop.x_bad_columns: column "bad-name" cannot be a BigQuery column name');
  const json = await runCli(['--config', file, 'failures', '--since', '1h', '--json']);
  const rows = JSON.parse(json.stdout) as { table: string; pipeline: string; errorType: string; attempts: number; link: string }[];
  // Other test files fail tables of their own pipelines on the same server.
  const mine = rows.filter((r) => r.pipeline === 'itfail' && r.table.startsWith('shop.x_'));
  expect(mine.map((r) => [r.table, r.errorType, r.attempts]).sort()).toEqual([
    ['shop.x_bad_columns', 'SchemaError', 1],
    ['shop.x_missing', 'SourceTableMissing', 1],
  ]);
  expect(mine[0].link.startsWith(`${TEMPORAL_UI_URL}/namespaces/default/workflows/bqsync-itfail.`)).toBe(true);
});

test('bqsync status shows the last run table by table', async () => {
  const res = await runCli(['--config', writeConfig(config), 'status', 'itfail']);
  expect(res.code).toBe(0);
  expect(res.stdout).toContain(`last run: ${TEMPORAL_UI_URL}/namespaces/default/workflows/bqsync-itfail/history`);
  expect(res.stdout).toMatch(/shop\.customers\s+succeeded\s+2,000\s+2,000/);
});
