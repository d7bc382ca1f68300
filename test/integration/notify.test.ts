import http from 'node:http';
import { AddressInfo } from 'node:net';
import { TEMPORAL_UI_URL } from '../helpers/env';
import { mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { createSmallTables } from '../helpers/source-tables';

const config = testConfig(
  'it-notify',
  { shop: mysqlSource('it_nt_shop', { tables: ['x_nt_ok', 'x_nt_missing'] }) },
  { itnotify: { sources: ['shop'], notify: { webhookUrlEnv: 'BQSYNC_TEST_WEBHOOK_URL' } } },
);

interface Received {
  at: number;
  body: { text: string; blocks: { type: string; text?: { text: string } }[] };
}

let server: http.Server;
let webhookUrl: string;
const received: Received[] = [];
let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  await createSmallTables(['x_nt_ok'], 4);
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_nt_missing');
  await my.end();
  // A real endpoint that fails the first delivery and accepts the next.
  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      received.push({ at: Date.now(), body: JSON.parse(data) });
      res.writeHead(received.length === 1 ? 503 : 200, { 'content-type': 'text/plain' }).end(received.length === 1 ? 'busy' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secret-token`;
  file = writeConfig(config);
  worker = await startWorker(file, { BQSYNC_TEST_WEBHOOK_URL: webhookUrl });
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

test('a failed run is posted to the webhook, retried with backoff after a 503', async () => {
  const run = await runCli(['--config', file, 'run', 'itnotify', '--wait']);
  expect(run.code).toBe(1);
  expect(received).toHaveLength(2);
  expect(received[1].at - received[0].at).toBeGreaterThanOrEqual(1500);
  const { text, blocks } = received[1].body;
  expect(text).toContain('bqsync: pipeline itnotify failed: 1 of 2 tables/steps failed (1 succeeded, 0 skipped): shop.x_nt_missing');
  const all = blocks.map((b) => b.text?.text ?? '').join('\n');
  expect(all).toContain(`<${TEMPORAL_UI_URL}/namespaces/default/workflows/bqsync-itnotify/`);
  const table = blocks.find((b) => b.text?.text.startsWith('*shop.x_nt_missing*'))!.text!.text;
  expect(table).toContain('(SourceTableMissing)');
  expect(table).toContain('shop.x_nt_missing: the table does not exist at the source');
  expect(table).toMatch(new RegExp(`<${TEMPORAL_UI_URL}/namespaces/default/workflows/bqsync-itnotify\\.[^|]+\\.shop\\.x_nt_missing/history\\|`));

  const client = await temporalClient();
  try {
    const history = await client.workflow.getHandle('bqsync-itnotify').fetchHistory();
    const json = JSON.stringify(history);
    const decoded = json.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
    // The activity was retried once and then succeeded; the URL never entered history.
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyFailure')!;
    const started = history.events!.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled.eventId!.toString());
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);
    expect(history.events!.some((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduled.eventId!.toString())).toBe(true);
    expect(decoded).toContain('"sent":true');
    expect(decoded).not.toContain('secret-token');
    expect(decoded).not.toContain(webhookUrl);
  } finally {
    await client.connection.close();
  }
});

test('a webhook URL written into the config instead of a variable name is refused', async () => {
  const bad = writeConfig({ ...config, pipelines: { itnotify: { sources: ['shop'], notify: { webhookUrlEnv: 'https://hooks.slack.com/services/T/B/x' } } } });
  const res = await runCli(['--config', bad, 'validate']);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('pipelines.itnotify.notify.webhookUrlEnv');
  expect(res.stderr).toContain('never the URL itself');
});
