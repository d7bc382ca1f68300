import { eventually, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables } from '../helpers/source-tables';

const config = testConfig(
  'it-json',
  { shop: mysqlSource('it_json_shop', { tables: ['x_js_1'] }) },
  { itjson: { sources: ['shop'], schedule: { every: '1h' } } },
);

let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  await createSmallTables(['x_js_1'], 6);
  file = writeConfig(config);
  worker = await startWorker(file);
});

afterAll(async () => {
  const client = await temporalClient();
  await client.schedule.getHandle('bqsync-itjson').delete().catch(() => undefined);
  await client.connection.close();
  await worker?.stop();
});

const json = async (args: string[]) => {
  const res = await runCli(['--config', file, ...args, '--json']);
  expect(res.stderr).toBe('');
  return { code: res.code, body: JSON.parse(res.stdout) };
};

test('validate --json', async () => {
  const { code, body } = await json(['validate']);
  expect(code).toBe(0);
  expect(body).toMatchObject({ file, valid: true, sources: [{ name: 'shop', type: 'mysql', listedTables: 1 }], pipelines: [{ name: 'itjson', sources: ['shop'] }] });
});

test('run --wait --json gives the run and its summary', async () => {
  const { code, body } = await json(['run', 'itjson', '--wait']);
  expect(code).toBe(0);
  expect(body).toMatchObject({ pipeline: 'itjson', workflowId: 'bqsync-itjson', status: 'succeeded' });
  expect(body.summary.results).toEqual([expect.objectContaining({ key: 'shop.x_js_1', status: 'succeeded', rowsLoaded: 6 })]);
});

test('schedule apply, pause, list, unpause and trigger answer in JSON', async () => {
  expect((await json(['schedule', 'apply'])).body).toEqual([
    { scheduleId: 'bqsync-itjson', change: 'created', schedule: 'every 1h, overlap skip, catch-up 1h' },
  ]);
  expect((await json(['schedule', 'apply'])).body[0].change).toBe('unchanged');
  expect((await json(['schedule', 'pause', 'itjson', '--note', 'db upgrade'])).body).toEqual({ scheduleId: 'bqsync-itjson', paused: true, note: 'db upgrade' });
  const listed = (await json(['schedule', 'list'])).body.find((s: { scheduleId: string }) => s.scheduleId === 'bqsync-itjson');
  expect(listed).toMatchObject({ paused: true, note: 'db upgrade', schedule: 'every 1h, overlap skip, catch-up 1h' });
  expect((await json(['schedule', 'unpause', 'itjson'])).body.paused).toBe(false);
  expect((await json(['schedule', 'trigger', 'itjson'])).body).toEqual({ scheduleId: 'bqsync-itjson', triggered: true });
  const client = await temporalClient();
  try {
    await eventually(
      async () => {
        for await (const wf of client.workflow.list({ query: `BqsyncPipeline = 'itjson' AND WorkflowType = 'nightlySync' AND WorkflowId STARTS_WITH 'bqsync-itjson-' AND ExecutionStatus = 'Completed'` })) return wf;
        return undefined;
      },
      60_000,
      'the triggered run',
    );
  } finally {
    await client.connection.close();
  }
});
