import { BIGQUERY_PROJECT } from '../helpers/env';
import { bigQuery, bqRows, mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';

/**
 * A SQL step that appends rows (an INSERT into a mart table) must land its rows once, even
 * when the worker dies right after BigQuery accepted the step's job and the step is retried.
 */
const MART = 'it_so_mart';
const config = testConfig(
  'it-step-once',
  { shop: mysqlSource('it_so_shop', { tables: ['x_so_orders', 'x_so_other'] }) },
  {
    itstep: {
      sources: ['shop'],
      // The step's worker is killed: its attempt is retried after this much silence.
      heartbeatTimeout: '10s',
      steps: [
        {
          name: 'append_orders',
          after: ['shop.x_so_orders'],
          // Retried 1 s after the lost attempt is noticed, not 10 s (the step's own retry:).
          retry: { interval: '1s' },
          dataset: MART,
          sql: 'INSERT INTO `{{project}}.{{dataset}}.order_log` (id, total) SELECT id, total FROM `{{project}}.{{datasets.shop}}.x_so_orders`',
        },
      ],
    },
    itbadstep: {
      sources: ['shop'],
      steps: [{ name: 'reads_nothing', after: ['shop.x_so_other'], dataset: MART, sql: 'SELECT id FROM `{{project}}.{{dataset}}.no_such_table`' }],
    },
  },
);
const file = writeConfig(config);
let worker: RunningWorker | undefined;

beforeAll(async () => {
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_so_orders, x_so_other');
  await my.query('CREATE TABLE x_so_other (id INT PRIMARY KEY)');
  await my.query('CREATE TABLE x_so_orders (id INT PRIMARY KEY, total INT NOT NULL)');
  await my.query('INSERT INTO x_so_orders SELECT seq, seq * 7 FROM seq_1_to_40');
  await my.end();
  const bq = bigQuery();
  await bq.dataset(MART).delete({ force: true }).catch(() => undefined);
  await bq.createDataset(MART, { location: 'US' });
  await bq.dataset(MART).createTable('order_log', {
    schema: { fields: [{ name: 'id', type: 'INT64' }, { name: 'total', type: 'INT64' }] },
  });
});

afterAll(async () => {
  await worker?.stop();
});

describe('SQL steps exactly once', () => {
  test('a worker killed right after BigQuery accepted the INSERT of a step: after the retry the rows are there once', async () => {
    const doomed = await startWorker(file, { BQSYNC_CRASH_AT: 'step-submitted' });
    const died = new Promise<NodeJS.Signals | null>((resolve) => doomed.process.on('exit', (_code, signal) => resolve(signal)));
    const run = runCli(['--config', file, 'run', 'itstep', '--wait']);
    expect(await died).toBe('SIGKILL');
    worker = await startWorker(file);
    const res = await run;
    expect(res.stdout).toMatch(/append_orders\s+succeeded/);
    expect(res.code).toBe(0);

    const [counts] = await bqRows(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids, SUM(total) AS total FROM \`${BIGQUERY_PROJECT}.${MART}.order_log\``);
    expect({ rows: Number(counts.n), ids: Number(counts.ids), total: Number(counts.total) }).toEqual({ rows: 40, ids: 40, total: 7 * 820 });

    // The step ran in two attempts of one activity, and both used the same job.
    const client = await temporalClient();
    try {
      const history = await client.workflow.getHandle('bqsync-itstep').fetchHistory();
      const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
      expect(Math.max(...started.map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0))).toBe(2);
      // With the step's retry: from the config file.
      const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runStep');
      const policy = scheduled!.activityTaskScheduledEventAttributes!.retryPolicy!;
      expect([Number(policy.initialInterval!.seconds), Number(policy.maximumInterval!.seconds), policy.maximumAttempts]).toEqual([1, 300, 3]);
    } finally {
      await client.connection.close();
    }
  }, 240_000);

  test('SQL that names a missing table fails the step once, as a ConfigError naming the step and the file', async () => {
    worker ??= await startWorker(file);
    const res = await runCli(['--config', file, 'run', 'itbadstep', '--wait']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/reads_nothing\s+failed.*ConfigError: step reads_nothing: BigQuery refused the SQL/);
    expect(res.stdout).toContain(`fix pipelines.itbadstep.steps.reads_nothing.sql in ${file}`);
    const client = await temporalClient();
    try {
      const history = await client.workflow.getHandle('bqsync-itbadstep').fetchHistory();
      const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes?.attempt);
      const step = started.find((e) => e.activityTaskStartedEventAttributes!.attempt! > 1);
      expect(step).toBeUndefined();
    } finally {
      await client.connection.close();
    }
  }, 120_000);
});
