/**
 * One sync per BigQuery table at any moment, across pipelines, schedules and CLI calls, and
 * a source's concurrency across every run at once. Tables are held in their extraction by
 * write locks in the databases, so that a first sync stays running while a second comes.
 */
import type { Client } from '@temporalio/client';
import { createSmallTables, lockTables } from '../helpers/source-tables';
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import { TEST_DATABASE } from '../helpers/env';
import {
  bigQuery,
  bqCount,
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
import { statusQuery } from '../../workflows';
import type { RunSummary } from '../../common/payloads';

const SHARED = 'x_tw_shared';
const ONE_AT_A_TIME = ['x_tw_c1', 'x_tw_c2'];

const config = (schedule?: object) =>
  testConfig(
    'it-two-writers',
    {
      shop: mysqlSource('it_tw_shop', { tables: [SHARED], concurrency: 2 }),
      lim: postgresSource('it_tw_lim', { tables: ONE_AT_A_TIME, concurrency: 1 }),
      // Two tables whose names differ only in case: one BigQuery name under naming.case lower.
      disc: mysqlSource('it_tw_disc', { discover: { include: ['x_tw_case*'] }, naming: { case: 'lower' } }),
    },
    {
      twa: { sources: ['shop'], ...(schedule ? { schedule } : {}) },
      twb: { sources: ['shop'] },
      twc: { sources: ['lim'] },
      twd: { sources: ['lim'] },
      twe: { sources: ['disc'] },
    },
  );

let worker: RunningWorker;
let file: string;
let client: Client;

beforeAll(async () => {
  await createSmallTables([SHARED, ...ONE_AT_A_TIME], 30);
  file = writeConfig(config());
  worker = await startWorker(file);
  client = await temporalClient();
});

/** Samplers still polling (a failed test leaves its own running). */
const samplers: { stop: () => Promise<number> }[] = [];

afterAll(async () => {
  await Promise.all(samplers.map((s) => s.stop()));
  await client?.connection.close();
  await worker?.stop();
});

/** Extraction queries reading `table` now, in this slot's MariaDB. */
async function mysqlExtractionsOf(table: string): Promise<number> {
  const my = await mysqlConnection();
  try {
    const [rows] = await my.query(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE '%bqsync:extract%' AND INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%'",
      [TEST_DATABASE, `%\`${table}\`%`],
    );
    return Number((rows as { n: string }[])[0].n);
  } finally {
    await my.end();
  }
}

async function postgresExtractions(): Promise<number> {
  const pg = await postgresClient();
  try {
    const r = await pg.query(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%bqsync:extract%' AND query LIKE '%x_tw_c%' AND state = 'active' AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%'",
      [TEST_DATABASE],
    );
    return Number(r.rows[0].n);
  } finally {
    await pg.end();
  }
}

/** Polls `sample` every 100 ms until stopped; returns the highest value seen. */
function peakOf(sample: () => Promise<number>): { stop: () => Promise<number>; now: () => number } {
  let peak = 0;
  let stopped = false;
  let loop: Promise<void> = Promise.resolve();
  const sampler = {
    now: () => peak,
    stop: async () => {
      stopped = true;
      await loop;
      return peak;
    },
  };
  samplers.push(sampler);
  loop = (async () => {
    while (!stopped) {
      peak = Math.max(peak, await sample().catch(() => 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return sampler;
}

/** When a table sync's activity was first scheduled, and when the table sync closed. */
async function syncWindow(workflowId: string): Promise<{ activityAt: number; closedAt: number }> {
  const handle = client.workflow.getHandle(workflowId);
  const closedAt = (await handle.describe()).closeTime!.getTime();
  const history = await handle.fetchHistory();
  const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncTable')!;
  const t = scheduled.eventTime!;
  return { activityAt: Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6), closedAt };
}

/** The two syncs of one table, one after the other: the later one's activity began after the earlier closed. */
async function expectNoOverlap(firstId: string, secondId: string): Promise<void> {
  const [a, b] = await Promise.all([syncWindow(firstId), syncWindow(secondId)]);
  const [earlier, later] = a.activityAt <= b.activityAt ? [a, b] : [b, a];
  expect(later.activityAt).toBeGreaterThanOrEqual(earlier.closedAt);
}

const nodeOf = (summary: RunSummary, key: string) => summary.results.find((r) => r.key === key)!;

describe('two writers on one table', () => {
  test('a second pipeline listing the same table waits for the first sync of it, and status says so', async () => {
    const unlock = await lockTables([SHARED], { mysql: true });
    const peak = peakOf(() => mysqlExtractionsOf(SHARED));
    let waitingStatus = '';
    try {
      expect((await runCli(['--config', file, 'run', 'twa'])).code).toBe(0);
      await eventually(async () => (await mysqlExtractionsOf(SHARED)) === 1, 60_000, "twa's sync to block in its extraction");
      expect((await runCli(['--config', file, 'run', 'twb'])).code).toBe(0);
      // twb's table sync has started and waits for twa's, or (without the lock) reads too.
      waitingStatus = await eventually(
        async () => {
          if (peak.now() > 1) return `two extractions at once`;
          const status = await runCli(['--config', file, 'status', 'twb']);
          return /waiting for it_tw_shop\.x_tw_shared/.test(status.stdout) ? status.stdout : undefined;
        },
        60_000,
        "twb's status to say it waits for the table",
      );
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      await unlock();
    }
    const [a, b]: RunSummary[] = await Promise.all([client.workflow.getHandle('bqsync-twa').result(), client.workflow.getHandle('bqsync-twb').result()]);
    expect(await peak.stop()).toBe(1);
    expect(waitingStatus).toMatch(/shop\.x_tw_shared\s+running.*waiting for it_tw_shop\.x_tw_shared: being written by bqsync-twa\./);
    expect(nodeOf(a, `shop.${SHARED}`).status).toBe('succeeded');
    expect(nodeOf(b, `shop.${SHARED}`).status).toBe('succeeded');
    await expectNoOverlap(nodeOf(a, `shop.${SHARED}`).workflowId!, nodeOf(b, `shop.${SHARED}`).workflowId!);
    expect(await expectSameRowsAsMysql(SHARED, 'it_tw_shop', ['id', 'label'])).toBe(30);
  });

  test('a scheduled run waits for the table that a manual run of the same pipeline is writing', async () => {
    const scheduled = writeConfig(config({ cron: '0 2 * * *' }));
    await runCli(['--config', scheduled, 'schedule', 'apply']);
    const unlock = await lockTables([SHARED], { mysql: true });
    const peak = peakOf(() => mysqlExtractionsOf(SHARED));
    let scheduledId = '';
    try {
      expect((await runCli(['--config', file, 'run', 'twa'])).code).toBe(0);
      await eventually(async () => (await mysqlExtractionsOf(SHARED)) === 1, 60_000, 'the manual run to block in its extraction');
      expect((await runCli(['--config', scheduled, 'schedule', 'trigger', 'twa'])).code).toBe(0);
      scheduledId = await eventually(
        async () => {
          // The run, not its table sync (whose ID begins with the run's).
          const query = `WorkflowType = 'nightlySync' AND WorkflowId STARTS_WITH 'bqsync-twa-' AND ExecutionStatus = 'Running'`;
          for await (const wf of client.workflow.list({ query })) return wf.workflowId;
          return undefined;
        },
        30_000,
        'the scheduled run',
      );
      const waiting = await eventually(
        async () => {
          if (peak.now() > 1) return 'two extractions at once';
          const summary = await client.workflow.getHandle(scheduledId).query(statusQuery);
          return nodeOf(summary, `shop.${SHARED}`)?.waitingFor;
        },
        60_000,
        'the scheduled run to say it waits',
      );
      expect(waiting).toMatch(/^waiting for it_tw_shop\.x_tw_shared: being written by bqsync-twa\./);
    } finally {
      await unlock();
      await runCli(['--config', file, 'schedule', 'apply', '--prune']);
    }
    const manual: RunSummary = await client.workflow.getHandle('bqsync-twa').result();
    const other: RunSummary = await client.workflow.getHandle(scheduledId).result();
    expect(await peak.stop()).toBe(1);
    await expectNoOverlap(nodeOf(manual, `shop.${SHARED}`).workflowId!, nodeOf(other, `shop.${SHARED}`).workflowId!);
    expect(await expectSameRowsAsMysql(SHARED, 'it_tw_shop', ['id', 'label'])).toBe(30);
  });

  test("a source's concurrency holds across pipelines: two runs on a source of concurrency 1 never read two tables at once", async () => {
    const unlock = await lockTables(ONE_AT_A_TIME, { postgres: true });
    const peak = peakOf(postgresExtractions);
    try {
      const [c, d] = await Promise.all([
        runCli(['--config', file, 'sync', 'lim.x_tw_c1', '--pipeline', 'twc']),
        runCli(['--config', file, 'sync', 'lim.x_tw_c2', '--pipeline', 'twd']),
      ]);
      expect(c.code).toBe(0);
      expect(d.code).toBe(0);
      await eventually(async () => (await postgresExtractions()) >= 1, 60_000, 'an extraction to block');
      // Long enough for a second extraction to show up if the limit did not hold.
      await eventually(
        async () => {
          if (peak.now() > 1) return true;
          for (const p of ['twc', 'twd']) {
            const status = await runCli(['--config', file, 'status', p]);
            if (/waiting for source lim \(concurrency 1\)/.test(status.stdout)) return true;
          }
          return false;
        },
        60_000,
        'a run to wait for the source',
      );
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      await unlock();
    }
    await Promise.all([client.workflow.getHandle('bqsync-twc').result(), client.workflow.getHandle('bqsync-twd').result()]);
    expect(await peak.stop()).toBe(1);
    expect(await bqCount('it_tw_lim', 'x_tw_c1')).toBe(30);
    expect(await bqCount('it_tw_lim', 'x_tw_c2')).toBe(30);
  });
});

describe('two writers on one table: names that collide', () => {
  test('validate and run refuse two sources whose tables land in one BigQuery table, naming both entries', async () => {
    const clash = writeConfig(
      testConfig(
        'it-two-writers',
        { shop: mysqlSource('it_tw_one', { tables: [SHARED] }), billing: postgresSource('it_tw_one', { tables: [SHARED] }) },
        { twx: { sources: ['shop'] }, twy: { sources: ['billing'] } },
      ),
    );
    for (const verb of [['validate'], ['run', 'twx']]) {
      const res = await runCli(['--config', clash, ...verb]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        `${clash}: sources.billing.tables "x_tw_shared" and sources.shop.tables "x_tw_shared" both land in BigQuery table it_tw_one.x_tw_shared, ` +
          'so each would overwrite the other; give one of them a destination: (or its source another dataset:)',
      );
    }
  });

  test('both tables fail at plan time naming each other, and neither is written', async () => {
    const my = await mysqlConnection();
    try {
      for (const name of ['x_tw_caseA', 'x_tw_casea']) {
        await my.query(`DROP TABLE IF EXISTS \`${name}\``);
        await my.query(`CREATE TABLE \`${name}\` (id INT PRIMARY KEY)`);
        await my.query(`INSERT INTO \`${name}\` VALUES (1)`);
      }
    } finally {
      await my.end();
    }
    const res = await runCli(['--config', file, 'run', 'twe', '--wait']);
    expect(res.code).toBe(1);
    const message =
      'table "x_tw_casea" discovered in source disc and table "x_tw_caseA" discovered in source disc both land in BigQuery table ' +
      'it_tw_disc.x_tw_casea, so each would overwrite the other; give one of them a destination: (or its source another dataset:)';
    const summary: RunSummary = await client.workflow
      .getHandle('bqsync-twe')
      .result()
      .catch((err) => err.cause.details[0]);
    for (const key of ['disc.x_tw_caseA', 'disc.x_tw_casea']) {
      expect(nodeOf(summary, key)).toMatchObject({ status: 'failed', errorType: 'DestinationConflict', error: message });
    }
    expect(res.stdout).toContain('DestinationConflict: table "x_tw_casea" discovered in source disc and table "x_tw_caseA"');
    const [exists] = await bigQuery().dataset('it_tw_disc').table('x_tw_casea').exists();
    expect(exists).toBe(false);
  });
});
