/**
 * requires: between pipelines on the real stack: a marts pipeline of SQL steps waits for
 * a table of the nightly pipeline's run for the same session date, says so in `status`,
 * and runs once that run has landed it; a requirement nobody meets fails the run with
 * DependencyTimeout, nothing started.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { BIGQUERY_PROJECT } from '../helpers/env';
import { bqRows, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { eventually } from '../helpers/eventually';
import { createSmallTables } from '../helpers/source-tables';
import type { RunSummary } from '../../common/payloads';

const config = testConfig(
  'it-requires',
  { shop: mysqlSource('it_req_shop', { tables: ['x_req_1'] }) },
  {
    itreqnightly: { sources: ['shop'], timezone: 'Asia/Tokyo' },
    itreqmarts: {
      timezone: 'Asia/Tokyo',
      requires: [{ pipeline: 'itreqnightly', tables: ['shop.x_req_1'], timeout: '5m' }],
      steps: [
        {
          name: 'req_count',
          after: ['shop.x_req_1'],
          dataset: 'it_req_marts',
          sql: 'CREATE OR REPLACE TABLE `{{project}}.{{dataset}}.req_count` AS SELECT COUNT(*) AS n, {{session_date}} AS d FROM `{{project}}.{{datasets.shop}}.x_req_1`',
        },
      ],
    },
    itreqlate: { requires: [{ pipeline: 'itreqnightly', tables: ['shop.x_req_1'], timeout: '3s' }], steps: [{ name: 'never', after: ['shop.x_req_1'], sql: 'SELECT 1' }] },
  },
);

let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  await createSmallTables(['x_req_1'], 7);
  file = writeConfig(config);
  worker = await startWorker(file, { BQSYNC_REQUIRES_POLL_MS: '1000' });
});

afterAll(async () => {
  await worker?.stop();
});

test('a pipeline waits for another pipeline\'s table of the same session date, shows it, then runs', async () => {
  const started = await runCli(['--config', file, 'run', 'itreqmarts', '--session-time', '2026-11-25']);
  expect(started.code).toBe(0);
  const status = await eventually(async () => {
    const s = await runCli(['--config', file, 'status', 'itreqmarts']);
    return s.stdout.includes('waiting for') ? s.stdout : undefined;
  }, 30_000, 'status to say what the run waits for');
  expect(status).toContain('waiting for itreqnightly: shop.x_req_1 (session date 2026-11-25): nothing starts before they land');
  // Another night's run does not count.
  expect((await runCli(['--config', file, 'run', 'itreqnightly', '--session-time', '2026-11-24', '--wait'])).code).toBe(0);
  expect((await runCli(['--config', file, 'status', 'itreqmarts'])).stdout).toContain('waiting for itreqnightly');
  // The same night, started at 07:00 Tokyo: same session date.
  expect((await runCli(['--config', file, 'run', 'itreqnightly', '--session-time', '2026-11-25T07:00:00+09:00', '--wait'])).code).toBe(0);
  const client = await temporalClient();
  try {
    const summary: RunSummary = await client.workflow.getHandle('bqsync-itreqmarts').result();
    expect(summary.results).toEqual([expect.objectContaining({ key: 'req_count', status: 'succeeded' })]);
    expect(summary.waitingFor).toBeUndefined();
  } finally {
    await client.connection.close();
  }
  const rows = await bqRows(`SELECT n, CAST(d AS STRING) AS d FROM \`${BIGQUERY_PROJECT}.it_req_marts.req_count\``);
  expect(rows.map((r) => ({ n: Number(String((r.n as { value?: string }).value ?? r.n)), d: r.d }))).toEqual([{ n: 7, d: '2026-11-25' }]);
});

test('a requirement not met in time fails the run as DependencyTimeout, nothing started', async () => {
  const res = await runCli(['--config', file, 'run', 'itreqlate', '--session-time', '2020-01-01']);
  expect(res.code).toBe(0);
  const client = await temporalClient();
  try {
    const err = await client.workflow.getHandle('bqsync-itreqlate').result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('DependencyTimeout');
    expect(cause.message).toContain('pipeline itreqlate waited for itreqnightly: shop.x_req_1 (session date 2020-01-01) and gave up at');
  } finally {
    await client.connection.close();
  }
});
