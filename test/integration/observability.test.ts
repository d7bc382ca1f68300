/**
 * What an operator watches: /metrics after a sync, JSON log lines with the run's context
 * and without secrets, and `bqsync doctor` against good and bad settings.
 */
import net from 'node:net';
import type { Client as PgClient } from 'pg';
import { createSmallTables } from '../helpers/source-tables';
import { MYSQL_URL, POSTGRES_URL, TEST_DATABASE } from '../helpers/env';
import { mysqlConnection, mysqlSource, postgresClient, postgresSource, runCli, startWorker, testConfig, writeConfig } from '../helpers/harness';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** `name{labels} value` lines of a Prometheus text page, with labels parsed. */
function samples(page: string, name: string): { labels: Record<string, string>; value: number }[] {
  return page
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => {
      const m = l.match(/^[^{\s]+(?:\{(.*)\})?\s+(\S+)$/)!;
      const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      return { labels, value: Number(m[2]) };
    });
}

// A password the test databases do not check (PostgreSQL trusts local connections), so
// that a sync succeeds with it while the test looks for it in every log line.
const PG_PASSWORD = 'obs-Pw-51c0e7-secret';
const PG_URL_WITH_PASSWORD = POSTGRES_URL.replace('postgres@', `postgres:${PG_PASSWORD}@`);
const MYSQL_WRONG_PASSWORD = 'obs-wrong-9d2f-secret';
const MYSQL_URL_WRONG_PASSWORD = MYSQL_URL.replace('root@', `root:${MYSQL_WRONG_PASSWORD}@`);

describe('metrics and logs of a worker', () => {
  test('/metrics has the SDK metrics and the rows, bytes and duration of each synced table', async () => {
    await createSmallTables(['x_obs_1'], 123);
    const port = await freePort();
    const file = writeConfig(
      testConfig(
        'it-obs-metrics',
        { shop: mysqlSource('it_obs_shop', { tables: ['x_obs_1'] }), billing: postgresSource('it_obs_billing', { tables: ['x_obs_1'] }) },
        { obs: { sources: ['shop', 'billing'] } },
      ),
    );
    const worker = await startWorker(file, { BQSYNC_METRICS_PORT: String(port) });
    try {
      const run = await runCli(['--config', file, 'run', 'obs', '--wait']);
      expect(run.code).toBe(0);
      const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const rows = samples(page, 'bqsync_rows_synced');
      const shopRows = rows.find((s) => s.labels.source === 'shop' && s.labels.table === 'x_obs_1');
      const billingRows = rows.find((s) => s.labels.source === 'billing' && s.labels.table === 'x_obs_1');
      expect(shopRows).toMatchObject({ value: 123, labels: { pipeline: 'obs', taskQueue: 'it-obs-metrics', activityType: 'syncTable' } });
      expect(billingRows?.value).toBe(123);
      const bytes = samples(page, 'bqsync_bytes_staged').find((s) => s.labels.source === 'shop');
      expect(bytes?.value).toBeGreaterThan(123 * 10);
      const durations = samples(page, 'bqsync_table_sync_duration_seconds_count').filter((s) => s.labels.outcome === 'succeeded');
      expect(durations.reduce((n, s) => n + s.value, 0)).toBe(2);
      // Buckets sized for table syncs (seconds to hours), not the default sub-10 s ones.
      const buckets = samples(page, 'bqsync_table_sync_duration_seconds_bucket').map((s) => s.labels.le);
      expect(buckets).toEqual(expect.arrayContaining(['3600', '21600']));
      expect(samples(page, 'bqsync_table_sync_failures')).toEqual([]);
      // The SDK's own, from the same endpoint.
      expect(samples(page, 'temporal_activity_execution_latency_count').length).toBeGreaterThan(0);
      expect(samples(page, 'temporal_workflow_completed').length).toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
  });

  test('JSON log lines carry pipeline, table, workflow and activity IDs, at the set level, and never a password', async () => {
    await createSmallTables(['x_obs_2'], 7);
    const file = writeConfig(
      testConfig(
        'it-obs-logs',
        {
          billing: { ...postgresSource('it_obs_billing'), url: '${OBS_PG_URL}', tables: ['x_obs_2'] },
          // Not named shop: its failures must not show among other tests' `bqsync failures` rows.
          obsshop: { ...mysqlSource('it_obs_shop'), url: '${OBS_MYSQL_URL}', tables: ['x_obs_2'] },
        },
        { obslogs: { sources: ['billing', 'obsshop'] } },
      ),
    );
    const env = { BQSYNC_LOG_FORMAT: 'json', BQSYNC_LOG_LEVEL: 'info', OBS_PG_URL: PG_URL_WITH_PASSWORD, OBS_MYSQL_URL: MYSQL_URL_WRONG_PASSWORD };
    const worker = await startWorker(file, env);
    let output: string;
    try {
      const run = await runCli(['--config', file, 'run', 'obslogs', '--wait'], env);
      // The MySQL source fails (wrong password, not retried); the PostgreSQL one lands.
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/obsshop\.x_obs_2\s+failed/);
      expect(run.stdout).toMatch(/billing\.x_obs_2\s+succeeded/);
      expect(run.stdout + run.stderr).not.toContain(MYSQL_WRONG_PASSWORD);
    } finally {
      await worker.stop();
      output = worker.output();
    }
    const lines = output.trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(5);
    for (const r of records) {
      expect(typeof r.time).toBe('string');
      expect(['info', 'warn', 'error']).toContain(r.level);
      expect(typeof r.message).toBe('string');
    }
    const synced = records.find((r) => r.message === 'table synced' && r.source === 'billing');
    expect(synced).toMatchObject({ pipeline: 'obslogs', table: 'x_obs_2', rowsLoaded: 7, activityType: 'syncTable' });
    expect(synced!.workflowId).toMatch(/^bqsync-obslogs\..*\.billing\.x_obs_2$/);
    expect(typeof synced!.activityId).toBe('string');
    const failed = records.find((r) => r.level === 'warn' && r.source === 'obsshop' && /fail/i.test(String(r.message)));
    expect(failed).toMatchObject({ pipeline: 'obslogs', table: 'x_obs_2' });
    expect(JSON.stringify(failed)).toContain('Access denied');
    // Neither password, nor the URLs that hold them, in any line.
    expect(output).not.toContain(PG_PASSWORD);
    expect(output).not.toContain(MYSQL_WRONG_PASSWORD);
  });
});

/** Drops a role with its grants, also one left behind by an interrupted run. */
async function dropRole(pg: PgClient, role: string): Promise<void> {
  const { rowCount } = await pg.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (!rowCount) return;
  // Its grants are all in this slot's database, so DROP OWNED here removes every one.
  await pg.query(`DROP OWNED BY ${role}`);
  await pg.query(`DROP ROLE ${role}`);
}

describe('bqsync doctor', () => {
  const tables = ['x_doc_1', 'x_doc_2'];
  const config = (taskQueue: string, address?: string) => {
    const c = testConfig(
      taskQueue,
      { shop: mysqlSource('it_doctor_shop', { url: '${DOC_MYSQL_URL}', tables }), billing: postgresSource('it_doctor_billing', { tables }) },
      { doc: { sources: ['shop', 'billing'] } },
    ) as { temporal: { address: string } };
    if (address) c.temporal.address = address;
    return writeConfig(c);
  };
  beforeAll(() => createSmallTables(tables, 3));

  test('all checks pass against the test stack', async () => {
    const result = await runCli(['--config', config('it-doctor'), 'doctor'], { DOC_MYSQL_URL: MYSQL_URL });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^Temporal 127\.0\.0\.1:\d+, namespace default, task queue it-doctor$/m);
    expect(out).toMatch(/^ {2}ok {3}connected$/m);
    expect(out).toMatch(/^ {2}ok {3}namespace default exists$/m);
    expect(out).toMatch(/^Source shop \(mysql\)$/m);
    expect(out).toMatch(/^ {2}ok {3}SELECT allowed on all 2 tables to sync$/m);
    expect(out).toMatch(/^Source billing \(postgres, schema public\)$/m);
    expect(out).toMatch(/^ {2}ok {3}load job into it_doctor_shop\._bqsync_doctor$/m);
    expect(out).toMatch(/^ {2}ok {3}query job \(counted 1 row\)$/m);
    expect(out).not.toMatch(/FAIL/);
    expect(out.trim().split('\n').pop()).toBe('all checks passed');
  });

  test('a wrong database password and an unreachable Temporal port are named, with what to do', async () => {
    const result = await runCli(['--config', config('it-doctor', '127.0.0.1:1'), 'doctor'], { DOC_MYSQL_URL: MYSQL_URL_WRONG_PASSWORD });
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toMatch(/^ {2}FAIL cannot connect to 127\.0\.0\.1:1: .*; check temporal\.address in .*bqsync\.yaml, that the server runs and that this network may reach it$/m);
    expect(out).toMatch(
      /^ {2}FAIL cannot connect to source "shop" \(mysql\): Access denied for user 'root'@'[^']+' \(using password: YES\); check the credentials and database in the environment variable behind sources\.shop\.url$/m,
    );
    expect(out).not.toContain(MYSQL_WRONG_PASSWORD);
    // The other source and BigQuery are still checked.
    expect(out).toMatch(/^Source billing[^\n]*\n {2}ok {3}connected$/m);
    expect(out).toMatch(/^ {2}ok {3}query job \(counted 1 row\)$/m);
    expect(out.trim().split('\n').pop()).toBe('2 check(s) failed');
  });

  test('a user without SELECT on a table is told which table', async () => {
    // A user of the slot's own: users and roles are server-wide, the test databases are not.
    const user = `${TEST_DATABASE}_doctor`;
    const root = await mysqlConnection();
    const pg = await postgresClient();
    const [[{ db }]] = (await root.query('SELECT DATABASE() AS db')) as unknown as [[{ db: string }]];
    try {
      await root.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
      await root.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY 'doctor-pw'`);
      await root.query(`GRANT SELECT ON \`${db}\`.\`x_doc_1\` TO '${user}'@'127.0.0.1'`);
      await dropRole(pg, user);
      await pg.query(`CREATE ROLE ${user} LOGIN`);
      await pg.query(`GRANT USAGE ON SCHEMA public TO ${user}`);
      await pg.query(`GRANT SELECT ON x_doc_1 TO ${user}`);
      const file = config('it-doctor');
      const env = { DOC_MYSQL_URL: MYSQL_URL.replace('root@', `${user}:doctor-pw@`), TEST_POSTGRES_URL: POSTGRES_URL.replace('postgres@', `${user}@`) };
      const result = await runCli(['--config', file, 'doctor'], env);
      expect(result.code).toBe(1);
      // MySQL hides the tables a user may not read; PostgreSQL lists them and says no.
      expect(result.stdout).toMatch(/^ {2}FAIL listed in .*bqsync\.yaml but not found: shop\.x_doc_2; .*GRANT SELECT on them/m);
      expect(result.stdout).toMatch(/^ {2}FAIL no SELECT privilege on 1 table\(s\): billing\.x_doc_2; GRANT SELECT on them to the user of sources\.billing\.url$/m);
      expect(result.stdout).not.toContain('doctor-pw');
    } finally {
      await root.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
      await root.end();
      await dropRole(pg, user);
      await pg.end();
    }
  });
});
