/**
 * Fault: tables vanish at the source after the run has planned them and before their
 * extraction starts. In MariaDB one discovered table is dropped and another renamed; in
 * PostgreSQL a listed table is dropped. The timing is made certain with real means: one
 * table sync at a time per source, and the first table (x_van_a_lock) write-locked, so the
 * others wait in the run's queue while the test checks that the plan lists them and then
 * drops or renames them.
 *
 * Proves: each vanished table fails once (not retried) as SourceTableMissing, with a message
 * that names it, says its BigQuery table was left as it was and what to do; its BigQuery
 * table still holds the rows of the earlier run, row by row; every other table lands with
 * exactly the source's rows; `run --wait`, `status` and `failures` show the same messages.
 */
import type { RunSummary } from '../../common/payloads';
import { summaryFromFailure } from '../../client/run-failure';
import { expectSameRows, expectSameRowsAsMysql, expectSameRowsAsPostgres } from '../helpers/same-rows';
import { BIGQUERY_PROJECT } from '../helpers/env';
import {
  bqRows,
  CliResult,
  eventually,
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
import { createSmallTables, lockTables, runningExtractions } from '../helpers/source-tables';
import { statusQuery } from '../../workflows';

const TABLES = ['x_van_a_lock', 'x_van_drop', 'x_van_ok', 'x_van_ren'];
const COLUMNS = ['id', 'label'];

const config = testConfig(
  'it-vanish',
  {
    shop: mysqlSource('it_van_shop', { concurrency: 1, discover: { include: ['x_van_*'] } }),
    billing: postgresSource('it_van_billing', { concurrency: 1, tables: ['x_van_a_lock', 'x_van_drop', 'x_van_ok'] }),
  },
  { itvanish: { sources: ['shop', 'billing'], concurrency: 4 } },
);

let worker: RunningWorker;
let file: string;
/** The BigQuery rows of the tables that will vanish, as the earlier run left them. */
const before: Record<string, Record<string, unknown>[]> = {};
let planned: RunSummary;
let cli: CliResult;
let summary: RunSummary;

async function dropVanished(): Promise<void> {
  const my = await mysqlConnection();
  const pg = await postgresClient();
  try {
    await my.query('DROP TABLE IF EXISTS x_van_drop, x_van_ren, x_van_renamed');
    await pg.query('DROP TABLE IF EXISTS x_van_drop');
  } finally {
    await my.end();
    await pg.end();
  }
}

beforeAll(async () => {
  await dropVanished();
  await createSmallTables(TABLES, 12);
  file = writeConfig(config);
  worker = await startWorker(file);

  // The earlier run: every table lands.
  const first = await runCli(['--config', file, 'run', 'itvanish', '--wait']);
  expect(first.stdout).toContain('pipeline itvanish: 7 succeeded, 0 failed, 0 skipped');
  expect(first.code).toBe(0);
  for (const [dataset, table] of [['it_van_shop', 'x_van_drop'], ['it_van_shop', 'x_van_ren'], ['it_van_billing', 'x_van_drop']]) {
    before[`${dataset}.${table}`] = await bqRows(`SELECT id, label FROM \`${BIGQUERY_PROJECT}.${dataset}.${table}\` ORDER BY id`);
  }
  // New source rows the vanished tables would bring, were they read: they must not arrive.
  const my = await mysqlConnection();
  const pg = await postgresClient();
  await my.query("INSERT INTO x_van_ok VALUES (100, 'second run')");
  await my.query("INSERT INTO x_van_drop VALUES (100, 'second run')");
  await pg.query("INSERT INTO x_van_ok VALUES (100, 'second run')");
  await my.end();
  await pg.end();

  // The second run: the first table of each source blocks, the others queue behind it.
  const unlock = await lockTables(['x_van_a_lock']);
  try {
    const running = runCli(['--config', file, 'run', 'itvanish', '--wait']);
    await eventually(async () => {
      const n = await runningExtractions();
      return n.mysql === 1 && n.postgres === 1;
    }, 90_000, 'both locked extractions');
    const client = await temporalClient();
    try {
      planned = await client.workflow.getHandle('bqsync-itvanish').query(statusQuery);
    } finally {
      await client.connection.close();
    }
    const my2 = await mysqlConnection();
    const pg2 = await postgresClient();
    await my2.query('DROP TABLE x_van_drop');
    await my2.query('RENAME TABLE x_van_ren TO x_van_renamed');
    await pg2.query('DROP TABLE x_van_drop');
    await my2.end();
    await pg2.end();
    await unlock();
    cli = await running;
  } catch (err) {
    await unlock().catch(() => undefined);
    throw err;
  }
  const client = await temporalClient();
  try {
    const err = await client.workflow.getHandle('bqsync-itvanish').result().then(() => undefined, (e: unknown) => e);
    summary = summaryFromFailure(err)!;
  } finally {
    await client.connection.close();
  }
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await dropVanished();
  const my = await mysqlConnection();
  const pg = await postgresClient();
  await my.query('DROP TABLE IF EXISTS x_van_a_lock, x_van_ok');
  await pg.query('DROP TABLE IF EXISTS x_van_a_lock, x_van_ok');
  await my.end();
  await pg.end();
});

test('the plan listed the tables before they vanished, and they were still waiting', () => {
  const status = Object.fromEntries(planned.results.map((r) => [r.key, r.status]));
  expect(status).toEqual({
    'shop.x_van_a_lock': 'running',
    'shop.x_van_drop': 'queued',
    'shop.x_van_ok': 'queued',
    'shop.x_van_ren': 'queued',
    'billing.x_van_a_lock': 'running',
    'billing.x_van_drop': 'queued',
    'billing.x_van_ok': 'queued',
  });
});

test('each vanished table fails once as SourceTableMissing, saying what became of it and what to do', () => {
  const byKey = Object.fromEntries(summary.results.map((r) => [r.key, r]));
  for (const key of ['shop.x_van_drop', 'shop.x_van_ren', 'billing.x_van_drop']) {
    expect(byKey[key]).toMatchObject({ status: 'failed', errorType: 'SourceTableMissing', runs: 1 });
  }
  expect(byKey['shop.x_van_drop'].error).toBe(
    'shop.x_van_drop: the table was discovered when the run was planned and is gone from the source now (dropped or renamed); ' +
      'it_van_shop.x_van_drop in BigQuery was left as it was. The next run will not list it; ' +
      'if it was renamed, sync the new name with: bqsync sync shop.<new name>',
  );
  expect(byKey['shop.x_van_ren'].error).toContain('shop.x_van_ren: the table was discovered when the run was planned and is gone');
  expect(byKey['billing.x_van_drop'].error).toBe(
    'billing.x_van_drop: the table does not exist at the source (dropped or renamed since it was listed?); ' +
      `it_van_billing.x_van_drop in BigQuery was left as it was. Remove it from sources.billing.tables in ${file}, or restore it at the source`,
  );
  for (const key of ['shop.x_van_a_lock', 'shop.x_van_ok', 'billing.x_van_a_lock', 'billing.x_van_ok']) {
    expect(byKey[key]).toMatchObject({ status: 'succeeded', runs: 1 });
  }
  expect(cli.code).toBe(1);
  expect(cli.stdout).toMatch(/shop\.x_van_ren\s+failed.*SourceTableMissing: shop\.x_van_ren: the table was discovered/);
  expect(cli.stdout).toMatch(/billing\.x_van_drop\s+failed.*SourceTableMissing: billing\.x_van_drop: the table does not exist/);
  expect(cli.stdout).toContain('pipeline itvanish: 4 succeeded, 3 failed, 0 skipped');
  expect(cli.stderr).toContain('run failed: 3 of 7 tables/steps failed');
});

test('the vanished tables keep the rows of the earlier run; the others hold exactly the source rows', async () => {
  for (const [name, rows] of Object.entries(before)) {
    const [dataset, table] = name.split('.');
    expect(rows).toHaveLength(12);
    expect(await expectSameRows(rows, dataset, table, COLUMNS)).toBe(12);
  }
  // The source tables really are gone (the renamed one under its new name).
  const my = await mysqlConnection();
  const [left] = await my.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'x\\_van\\_%' ORDER BY 1");
  await my.end();
  expect((left as { t: string }[]).map((r) => r.t)).toEqual(['x_van_a_lock', 'x_van_ok', 'x_van_renamed']);

  expect(await expectSameRowsAsMysql('x_van_ok', 'it_van_shop', COLUMNS)).toBe(13);
  expect(await expectSameRowsAsMysql('x_van_a_lock', 'it_van_shop', COLUMNS)).toBe(12);
  expect(await expectSameRowsAsPostgres('x_van_ok', 'it_van_billing', COLUMNS)).toBe(13);
  expect(await expectSameRowsAsPostgres('x_van_a_lock', 'it_van_billing', COLUMNS)).toBe(12);
});

test('bqsync failures and bqsync status name the vanished tables', async () => {
  const failures = await runCli(['--config', file, 'failures', '--since', '1h', '--json']);
  expect(failures.code).toBe(0);
  // This run's table syncs only (a kept stack holds earlier runs' failures too).
  const ids = new Set(summary.results.map((r) => r.workflowId));
  const mine = (JSON.parse(failures.stdout) as { table: string; workflowId: string; errorType: string; attempts: number; message: string }[])
    .filter((f) => ids.has(f.workflowId))
    .map((f) => [f.table, f.errorType, f.attempts])
    .sort();
  expect(mine).toEqual([
    ['billing.x_van_drop', 'SourceTableMissing', 1],
    ['shop.x_van_drop', 'SourceTableMissing', 1],
    ['shop.x_van_ren', 'SourceTableMissing', 1],
  ]);
  const status = await runCli(['--config', file, 'status', 'itvanish']);
  expect(status.stdout).toMatch(/shop\.x_van_ren\s+failed.*bqsync sync shop\.<new name>/);
});
