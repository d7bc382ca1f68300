import { createSmallTables, lockTables, runningExtractions } from '../helpers/source-tables';
import { bqCount, mysqlSource, postgresSource, runCli, RunningWorker, startWorker, testConfig, writeConfig, eventually } from '../helpers/harness';
import type { RunSummary } from '../../common/payloads';

const TABLES = ['x_lim_1', 'x_lim_2', 'x_lim_3', 'x_lim_4', 'x_lim_5', 'x_lim_6'];
const config = testConfig(
  'it-limits',
  {
    shop: mysqlSource('it_lim_shop', { concurrency: 3, tables: TABLES }),
    billing: postgresSource('it_lim_billing', { concurrency: 3, tables: TABLES }),
  },
  { itlimits: { sources: ['shop', 'billing'], concurrency: 4 } },
);

const workers: RunningWorker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
});

test('at most 3 syncs per source and 4 in all run at once, across two workers', async () => {
  await createSmallTables(TABLES);
  const file = writeConfig(config);
  // Two worker processes poll the same task queue: the limits must hold across them.
  workers.push(await startWorker(file), await startWorker(file));
  const unlock = await lockTables(TABLES);
  let peak = { mysql: 0, postgres: 0, total: 0 };
  const observe = async () => {
    const now = await runningExtractions();
    peak = {
      mysql: Math.max(peak.mysql, now.mysql),
      postgres: Math.max(peak.postgres, now.postgres),
      total: Math.max(peak.total, now.mysql + now.postgres),
    };
    return now;
  };
  const run = runCli(['--config', file, 'run', 'itlimits', '--wait']);
  try {
    // With every table locked, extraction queries pile up to the limit and stay there.
    await eventually(
      async () => {
        const now = await observe();
        return now.mysql + now.postgres >= 4;
      },
      // Generous: on a loaded machine, with the emulator slowed by a long test run, each
      // table's setup before its extraction can take tens of seconds.
      180_000,
      '4 blocked extractions',
    );
    for (let i = 0; i < 20; i++) {
      await observe();
      await new Promise((r) => setTimeout(r, 150));
    }
  } finally {
    await unlock();
  }
  const poll = setInterval(() => void observe().catch(() => undefined), 100);
  const result = await run;
  clearInterval(poll);

  expect(result.code).toBe(0);
  expect(peak.total).toBe(4);
  expect(peak.mysql).toBeLessThanOrEqual(3);
  expect(peak.postgres).toBeLessThanOrEqual(3);
  expect(result.stdout).toContain('12 succeeded, 0 failed');
  for (const t of TABLES) {
    expect(await bqCount('it_lim_shop', t)).toBe(10);
    expect(await bqCount('it_lim_billing', t)).toBe(10);
  }
});

test('a run continues as new when its history grows, and loses no table', async () => {
  const { temporalClient } = await import('../helpers/harness');
  const { nightlySync } = await import('../../workflows');
  const client = await temporalClient();
  try {
    const handle = await client.workflow.start(nightlySync, {
      workflowId: 'bqsync-itlimits-can',
      taskQueue: 'it-limits',
      args: [{ pipeline: 'itlimits', continueAsNewAfter: 3 }],
    });
    const summary: RunSummary = await handle.result();
    expect(summary.results.filter((r) => r.status === 'succeeded')).toHaveLength(12);
    const first = await client.workflow.getHandle('bqsync-itlimits-can', handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const runs = await client.workflow.count(`WorkflowId = 'bqsync-itlimits-can'`);
    expect(runs.count).toBeGreaterThanOrEqual(2);
  } finally {
    await client.connection.close();
  }
});
