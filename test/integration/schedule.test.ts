import { bqCount, eventually, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables, lockTables, runningExtractions } from '../helpers/source-tables';

const withSchedule = (schedule?: object) =>
  testConfig(
    'it-schedule',
    { shop: mysqlSource('it_sched_shop', { tables: ['x_sch_1'] }) },
    { itsched: { sources: ['shop'], ...(schedule ? { schedule } : {}) } },
  );

let worker: RunningWorker;

beforeAll(async () => {
  await createSmallTables(['x_sch_1'], 7);
  worker = await startWorker(writeConfig(withSchedule()));
});

afterAll(async () => {
  await worker?.stop();
});

test('schedule apply creates, keeps, updates and prunes, and the schedule fires runs', async () => {
  const every8 = writeConfig(withSchedule({ every: '8s' }));
  const created = await runCli(['--config', every8, 'schedule', 'apply']);
  expect(created.stderr).toBe('');
  expect(created.stdout).toContain('+ created bqsync-itsched: every 8s, overlap skip, catch-up 1h');
  expect((await runCli(['--config', every8, 'schedule', 'apply'])).stdout).toContain('unchanged bqsync-itsched');

  const cron = writeConfig(withSchedule({ cron: '0 2 * * *', timezone: 'Asia/Tokyo', every: undefined }));
  const updated = await runCli(['--config', cron, 'schedule', 'apply']);
  expect(updated.stdout).toContain(
    '~ updated bqsync-itsched: cron "0 2 * * *" in Asia/Tokyo, overlap skip, catch-up 1h (was: every 8s, overlap skip, catch-up 1h)',
  );
  // 02:00 in Tokyo is 17:00 UTC.
  const listed = await runCli(['--config', cron, 'schedule', 'list']);
  expect(listed.stdout).toMatch(/bqsync-itsched {2}active {2}cron "0 2 \* \* \*" in Asia\/Tokyo/);
  expect(listed.stdout).toMatch(/next: \d{4}-\d{2}-\d{2}T17:00:00\.000Z/);

  await runCli(['--config', every8, 'schedule', 'apply']);
  const client = await temporalClient();
  try {
    // The run itself, not one of its table syncs (they carry the pipeline's attribute too).
    const run = await eventually(
      async () => {
        for await (const wf of client.workflow.list({ query: `BqsyncPipeline = 'itsched' AND WorkflowType = 'nightlySync' AND ExecutionStatus = 'Completed'` })) return wf;
        return undefined;
      },
      60_000,
      'a completed scheduled run',
    );
    expect(run.workflowId).toMatch(/^bqsync-itsched-\d{4}-\d{2}-\d{2}T/);
  } finally {
    await client.connection.close();
  }
  expect(await bqCount('it_sched_shop', 'x_sch_1')).toBe(7);

  const paused = await runCli(['--config', every8, 'schedule', 'pause', 'itsched', '--note', 'database maintenance until 06:00']);
  expect(paused.stdout).toContain('bqsync-itsched paused: database maintenance until 06:00');
  expect((await runCli(['--config', every8, 'schedule', 'list'])).stdout).toContain('PAUSED (database maintenance until 06:00)');
  // Applying the config again keeps the pause.
  await runCli(['--config', every8, 'schedule', 'apply', '--prune']);
  expect((await runCli(['--config', every8, 'schedule', 'list'])).stdout).toContain('PAUSED');

  const without = writeConfig(withSchedule());
  expect((await runCli(['--config', without, 'schedule', 'apply'])).stdout).toContain(
    '! bqsync-itsched is not in',
  );
  expect((await runCli(['--config', without, 'schedule', 'apply', '--prune'])).stdout).toContain('- deleted bqsync-itsched');
});

test('"sync" joins a scheduled run that is running, and "run" refuses a second one', async () => {
  const file = writeConfig(withSchedule({ cron: '0 2 * * *' }));
  await runCli(['--config', file, 'schedule', 'apply']);
  const unlock = await lockTables(['x_sch_1'], { mysql: true });
  try {
    expect((await runCli(['--config', file, 'schedule', 'trigger', 'itsched'])).code).toBe(0);
    await eventually(async () => (await runningExtractions()).mysql === 1, 60_000, 'the scheduled run to block');
    const sync = await runCli(['--config', file, 'sync', 'shop.x_sch_1']);
    expect(sync.stdout).toContain('shop.x_sch_1: already running in this run');
    expect(sync.stdout).toMatch(/workflows\/bqsync-itsched-\d{4}-/);
    const run = await runCli(['--config', file, 'run', 'itsched']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pipeline itsched is already running: .*bqsync-itsched-\d{4}-/);
  } finally {
    await unlock();
    await runCli(['--config', writeConfig(withSchedule()), 'schedule', 'apply', '--prune']);
  }
});
