/**
 * A full load over chunkRows read in key ranges that any worker of the task queue takes:
 * two worker processes share the ranges of one table, a worker killed in the middle of a
 * range leaves it to the other, and the source's concurrency holds across two tables read
 * in parallel ranges. Every table ends compared with its source row by row.
 */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { BIGQUERY_PROJECT } from '../helpers/env';
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import { runningExtractions } from '../helpers/source-tables';
import {
  bigQuery,
  bqRows,
  FAST_RETRY,
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
import { normalize } from '../helpers/compare';

const config = testConfig(
  'it-ranges',
  {
    shop: mysqlSource('it_ranges_shop', {
      concurrency: 3,
      tables: [
        { name: 'x_pr_big', chunkRows: 10000, parallelRanges: 2 },
        { name: 'x_pr_kill', chunkRows: 10000, parallelRanges: 2 },
      ],
    }),
    billing: postgresSource('it_ranges_billing', {
      concurrency: 3,
      tables: [
        { name: 'x_pr_a', chunkRows: 10000, parallelRanges: 3 },
        { name: 'x_pr_b', chunkRows: 10000, parallelRanges: 3 },
      ],
    }),
  },
  { itranges: { sources: ['shop', 'billing'], heartbeatTimeout: '10s', retry: FAST_RETRY } },
);
const file = writeConfig(config);
let workers: RunningWorker[] = [];
let client: Client;

/** The identity a worker process has in the workflow history (the SDK's default). */
const identityOf = (w: RunningWorker) => `${w.process.pid}@${os.hostname()}`;

beforeAll(async () => {
  for (const dataset of ['it_ranges_shop', 'it_ranges_billing']) {
    await bigQuery().dataset(dataset).delete({ force: true }).catch(() => undefined);
  }
  const my = await mysqlConnection();
  for (const t of ['x_pr_big', 'x_pr_kill']) {
    await my.query(`DROP TABLE IF EXISTS ${t}`);
    await my.query(`CREATE TABLE ${t} (id BIGINT PRIMARY KEY, v VARCHAR(30), made_at DATETIME(6))`);
    await my.query(`INSERT INTO ${t} SELECT seq * 7, CONCAT('row ', seq), TIMESTAMP('2024-01-01') + INTERVAL seq SECOND FROM seq_1_to_60000`);
    await my.query(`ANALYZE TABLE ${t}`);
  }
  await my.end();
  const pg = await postgresClient();
  await pg.query('DROP TABLE IF EXISTS x_pr_a, x_pr_b');
  await pg.query('CREATE TABLE x_pr_a (id int PRIMARY KEY, v text)');
  await pg.query("INSERT INTO x_pr_a SELECT s, 'a ' || s FROM generate_series(1, 30000) s");
  // A composite key: the ranges split its first column, an integer.
  await pg.query('CREATE TABLE x_pr_b (tenant int, code text, v text, PRIMARY KEY (tenant, code))');
  await pg.query("INSERT INTO x_pr_b SELECT t, 'c' || c, 'b ' || t || '/' || c FROM generate_series(1, 300) t, generate_series(1, 100) c");
  await pg.query('ANALYZE x_pr_a');
  await pg.query('ANALYZE x_pr_b');
  await pg.end();
  client = await temporalClient();
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  workers = [];
});

afterAll(async () => {
  await client?.connection.close();
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The latest table sync of a table, and its history. */
async function tableSyncHistory(key: string): Promise<HistoryEvent[]> {
  for await (const wf of client.workflow.list({ query: `BqsyncTable = '${key}'` })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    return history.events!;
  }
  throw new Error(`no table sync of ${key}`);
}

interface RangeAttempt {
  activityId: string;
  summary: string;
  attempt: number;
  identity: string;
  completed: boolean;
  /** Why the attempt before this one ended (Temporal records only the last attempt's start). */
  lastFailure?: string;
}

/** Each key range's activity as its history records it: its last attempt, by which worker, and whether it completed. */
function rangeAttempts(events: HistoryEvent[]): RangeAttempt[] {
  const scheduled = new Map<string, { activityId: string; summary: string }>();
  const started = new Map<string, RangeAttempt>();
  const attempts: RangeAttempt[] = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === 'syncRange') {
      const payload = e.userMetadata?.summary?.data;
      scheduled.set(String(e.eventId), { activityId: s.activityId!, summary: payload ? JSON.parse(Buffer.from(payload).toString()) : '' });
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st && scheduled.has(String(st.scheduledEventId))) {
      const a: RangeAttempt = {
        ...scheduled.get(String(st.scheduledEventId))!,
        attempt: st.attempt!,
        identity: st.identity!,
        completed: false,
        ...(st.lastFailure && { lastFailure: String(st.lastFailure.message) }),
      };
      started.set(String(st.scheduledEventId), a);
      attempts.push(a);
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done && started.has(String(done.scheduledEventId))) started.get(String(done.scheduledEventId))!.completed = true;
  }
  return attempts;
}

/** No key appears twice in the destination, and it holds as many rows as the source. */
async function expectNoDuplicates(dataset: string, table: string, rows: number): Promise<void> {
  const [d] = await bqRows(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS k FROM \`${BIGQUERY_PROJECT}.${dataset}.${table}\``);
  expect([Number(d.n), Number(d.k)]).toEqual([rows, rows]);
}

test('two workers take the key ranges of one table: it lands exact, and both completed ranges', async () => {
  // One activity at a time on each: the two ranges read at once are on different workers.
  workers = [await startWorker(file, { BQSYNC_MAX_ACTIVITIES: '1' }), await startWorker(file, { BQSYNC_MAX_ACTIVITIES: '1' })];
  const res = await runCli(['--config', file, 'sync', 'shop.x_pr_big', '--wait']);
  expect(res.code).toBe(0);
  // About 60,000 / chunkRows ranges, by the database's estimate of the rows.
  const ranges = /shop\.x_pr_big\s+succeeded\s+60,000\s+60,000.*read in (\d+) key ranges, up to 2 at once on 2 workers/.exec(res.stdout);
  expect(ranges).not.toBeNull();
  expect(await expectSameRowsAsMysql('x_pr_big', 'it_ranges_shop', ['id', 'v', 'made_at'])).toBe(60000);
  await expectNoDuplicates('it_ranges_shop', 'x_pr_big', 60000);

  const attempts = rangeAttempts(await tableSyncHistory('shop.x_pr_big'));
  const completedBy = new Set(attempts.filter((a) => a.completed).map((a) => a.identity));
  expect([...completedBy].sort()).toEqual(workers.map(identityOf).sort());
  // The Web UI shows each range with its table and place.
  expect(attempts.map((a) => a.summary)).toContain(`shop.x_pr_big: key range 1 of ${ranges![1]}, to it_ranges_shop.x_pr_big's staging table`);
  expect(attempts.filter((a) => a.completed)).toHaveLength(Number(ranges![1]));
  // The staging table is gone once the destination has the rows.
  const [tables] = await bigQuery().dataset('it_ranges_shop').getTables();
  expect(tables.map((t) => t.id).filter((id) => id!.startsWith('_bqsync_stage_'))).toEqual([]);
});

test('a worker killed in the middle of a range: the other worker reads that range again, and no row lands twice', async () => {
  // The doomed worker runs alone until it dies in its first range, so that it surely takes
  // one (with both up, the other worker could take every range); the healthy one comes then.
  const doomed = await startWorker(file, { BQSYNC_MAX_ACTIVITIES: '1', BQSYNC_CRASH_AT: 'range-read' });
  workers = [doomed];
  const died = new Promise((resolve) => doomed.process.on('exit', (_c, signal) => resolve(signal)));
  const run = runCli(['--config', file, 'sync', 'shop.x_pr_kill', '--wait']);
  expect(await died).toBe('SIGKILL');
  const healthy = await startWorker(file, { BQSYNC_MAX_ACTIVITIES: '1' });
  workers = [doomed, healthy];
  const res = await run;
  expect(res.code).toBe(0);
  // The cut-off range was read again, not resumed: nothing of it had landed.
  expect(res.stdout).toMatch(/shop\.x_pr_kill\s+succeeded\s+60,000\s+60,000.*read in \d+ key ranges, up to 2 at once on 1 worker\b/);
  expect(await expectSameRowsAsMysql('x_pr_kill', 'it_ranges_shop', ['id', 'v', 'made_at'])).toBe(60000);
  await expectNoDuplicates('it_ranges_shop', 'x_pr_kill', 60000);

  // Every range completed on the healthy worker; the one cut off in its read did so in a
  // second attempt, after the first went silent (history keeps only the last attempt's start).
  const attempts = rangeAttempts(await tableSyncHistory('shop.x_pr_kill'));
  expect(attempts.every((a) => a.completed && a.identity === identityOf(healthy))).toBe(true);
  const retried = attempts.filter((a) => a.attempt > 1);
  expect(retried).toEqual([expect.objectContaining({ attempt: 2, lastFailure: expect.stringMatching(/heartbeat/i) })]);
});

test("two tables read in parallel ranges never read more ranges of the source at once than its concurrency", async () => {
  workers = [await startWorker(file), await startWorker(file)];
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await runningExtractions().catch(() => ({ postgres: 0 }))).postgres);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const res = await runCli(['--config', file, 'sync', 'billing.x_pr_a', 'billing.x_pr_b', '--wait']);
  sampling = false;
  await sampler;
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/billing\.x_pr_a\s+succeeded\s+30,000\s+30,000.*read in \d+ key ranges, up to 3 at once/);
  expect(res.stdout).toMatch(/billing\.x_pr_b\s+succeeded\s+30,000\s+30,000.*read in \d+ key ranges, up to 3 at once/);
  expect(peak).toBeLessThanOrEqual(3);
  // Each table holds the source's 3 permits for its whole sync: their ranges never overlap in time.
  const windows = await Promise.all(['billing.x_pr_a', 'billing.x_pr_b'].map(async (key) => rangeWindow(await tableSyncHistory(key))));
  const [first, second] = windows.sort((a, b) => a.from - b.from);
  expect(second.from).toBeGreaterThanOrEqual(first.to);

  const pg = await postgresClient();
  try {
    for (const [table, order] of [['x_pr_a', 'id'], ['x_pr_b', 'tenant, code']]) {
      const source = (await pg.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
      const dest = await bqRows(`SELECT * FROM \`${BIGQUERY_PROJECT}.it_ranges_billing.${table}\` ORDER BY ${order}`);
      expect(dest.map((r) => normalizeRow(r))).toEqual(source.map((r) => normalizeRow(r)));
    }
  } finally {
    await pg.end();
  }
});

const normalizeRow = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, normalize(v)]));

/** From the first range's start to the last range's end, in a table sync's history. */
function rangeWindow(events: HistoryEvent[]): { from: number; to: number } {
  const at = (e: HistoryEvent) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6);
  const ranges = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncRange').map((e) => String(e.eventId)));
  const started = events.filter((e) => ranges.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)));
  const ended = events.filter((e) => ranges.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)));
  return { from: Math.min(...started.map(at)), to: Math.max(...ended.map(at)) };
}
