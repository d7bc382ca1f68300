import http from 'node:http';
import { AddressInfo } from 'node:net';
import { BIGQUERY_PROJECT, ON_EMULATOR } from '../helpers/env';
import { bqRows, CliResult, mysqlConnection, mysqlSource, runCli, RunningWorker, startWorker, failedRunSummary, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import type { RunSummary } from '../../common/payloads';

/**
 * Rows whose values BigQuery refuses (or once refused) must fail their table with a message
 * that says where and what to do, and carry none of the row's values anywhere an operator
 * or Temporal keeps text: history, the worker's log, the CLI, the webhook.
 */
const DATASET = 'it_rv_shop';
const config = testConfig(
  'it-rowvals',
  { shop: mysqlSource(DATASET, { tables: ['x_rv_people', 'x_rv_bad'] }) },
  { itrowvals: { sources: ['shop'], notify: { webhookUrlEnv: 'BQSYNC_TEST_WEBHOOK_URL' } } },
);

/** Values of the rows: none may leave the worker but towards BigQuery. */
const MARKERS = ['SECRET-MARKER-NAME-Qz81', 'SECRET-MARKER-MAIL-Qz82', 'SECRET-MARKER-DOC-Qz83', 'SECRET-MARKER-BAD-Qz84', 'SECRET-MARKER-NOTE-Qz85'];

/** A marker as plain text and as it reads inside any base64 text, whatever its offset there. */
function markerForms(marker: string): string[] {
  const forms = [marker];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.from('\0'.repeat(pad) + marker).toString('base64');
    forms.push(b64.slice(pad === 0 ? 0 : 4, -4));
  }
  return forms;
}

/** The markers found in a text, plain or in base64; base64 payloads are decoded first. */
function leakedMarkers(text: string): string[] {
  const decoded = text.replace(/"data":"([A-Za-z0-9+/=]+)"/g, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
  return MARKERS.filter((m) => markerForms(m).some((f) => decoded.includes(f) || text.includes(f)));
}

let server: http.Server;
const bodies: string[] = [];
let worker: RunningWorker;
let file: string;
let run: CliResult;
let summary: RunSummary;

beforeAll(async () => {
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_rv_people, x_rv_bad');
  await my.query('CREATE TABLE x_rv_people (id INT PRIMARY KEY, name VARCHAR(80), email VARCHAR(120), doc JSON)');
  // Row 2 holds a bare JSON string: valid JSON, and valid for BigQuery's JSON type.
  await my.query('INSERT INTO x_rv_people VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)', [
    1, MARKERS[0], `${MARKERS[1]}@example.com`, `{"k": "${MARKERS[2]}"}`,
    2, `${MARKERS[0]}-2`, `${MARKERS[1]}-2@example.com`, '"hello"',
    3, `${MARKERS[0]}-3`, `${MARKERS[1]}-3@example.com`, '[1, 2, 3]',
  ]);
  await my.query('CREATE TABLE x_rv_bad (id INT PRIMARY KEY, note VARCHAR(80), doc JSON)');
  // A number BigQuery's JSON type cannot hold (beyond FLOAT64), in otherwise valid JSON.
  await my.query('INSERT INTO x_rv_bad VALUES (?, ?, ?), (?, ?, ?)', [
    1, MARKERS[4], `{"ok": "${MARKERS[3]}"}`,
    2, `${MARKERS[4]}-2`, `{"big": 1e400, "v": "${MARKERS[3]}-2"}`,
  ]);
  await my.end();

  server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      bodies.push(data);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  file = writeConfig(config);
  worker = await startWorker(file, { BQSYNC_TEST_WEBHOOK_URL: webhookUrl });
  run = await runCli(['--config', file, 'run', 'itrowvals', '--wait']);
  summary = await failedRunSummary('bqsync-itrowvals');
});

afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

/** The attempts the table's activity really ran, and whether its last failure forbade another. */
async function lastAttempt(workflowId: string): Promise<{ ran: number; retryAllowed: boolean }> {
  const client = await temporalClient();
  try {
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events!;
    const syncScheduled = String(events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncTable')!.eventId);
    const failed = [...events].reverse().find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes?.failure;
    return {
      // The syncTable activity's own start (the write lock's request is another activity).
      ran: events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === syncScheduled)!
        .activityTaskStartedEventAttributes!.attempt!,
      retryAllowed: !failed?.applicationFailureInfo?.nonRetryable,
    };
  } finally {
    await client.connection.close();
  }
}

describe('row values in failure messages', () => {
  test('no row value reaches history, the worker log, the CLI or the webhook body', async () => {
    const client = await temporalClient();
    const histories: string[] = [];
    try {
      const ids = ['bqsync-itrowvals', ...summary.results.filter((r) => r.workflowId).map((r) => r.workflowId!)];
      for (const id of ids) histories.push(JSON.stringify(await client.workflow.getHandle(id).fetchHistory()));
    } finally {
      await client.connection.close();
    }
    const failures = await runCli(['--config', file, 'failures', '--since', '1h']);
    const status = await runCli(['--config', file, 'status', 'itrowvals']);
    expect(bodies.length).toBeGreaterThan(0);
    const seen = {
      history: leakedMarkers(histories.join('\n')),
      workerLog: leakedMarkers(worker.output()),
      cli: leakedMarkers([run.stdout, run.stderr, failures.stdout, status.stdout].join('\n')),
      webhook: leakedMarkers(bodies.join('\n')),
    };
    expect(seen).toEqual({ history: [], workerLog: [], cli: [], webhook: [] });
    expect(bodies.join('\n')).toContain('RowsRejected');
  });

  test('a refused value fails its table at once, naming table, column, BigQuery type and the fix; attempts shown are those that ran', async () => {
    const bad = summary.results.find((r) => r.key === 'shop.x_rv_bad')!;
    expect(bad.status).toBe('failed');
    // The emulator may answer an attempt with a passing HTTP 500 first; the refusal ends the retries.
    const { ran, retryAllowed } = await lastAttempt(bad.workflowId!);
    const failures = await runCli(['--config', file, 'failures', '--since', '1h', '--json']);
    const listed = (JSON.parse(failures.stdout) as { table: string; errorType: string; attempts: number; action?: string }[]).find(
      (f) => f.table === 'shop.x_rv_bad',
    )!;
    expect({ type: bad.errorType, retryAllowed, shown: listed.attempts }).toEqual({ type: 'RowsRejected', retryAllowed: false, shown: ran });
    expect(bad.error).toMatch(/^shop\.x_rv_bad: BigQuery refused a value of column doc \(BigQuery JSON\)/);
    expect(bad.error).toContain(`columns: { exclude: [doc] } under sources.shop.tables in ${file}; then bqsync sync shop.x_rv_bad`);
    expect(listed.action).toContain('fix the values of the column the message names');
  });

  test('a bare JSON string in a JSON column: BigQuery loads it as that string; the emulator refuses it, and the message says where', async () => {
    const people = summary.results.find((r) => r.key === 'shop.x_rv_people')!;
    if (ON_EMULATOR) {
      // The emulator reads every string of a JSON column as JSON text (README: emulator gaps).
      expect(people.errorType).toBe('RowsRejected');
      expect(people.error).toMatch(/^shop\.x_rv_people: BigQuery refused a value of column doc \(BigQuery JSON\)/);
      return;
    }
    expect(people.status).toBe('succeeded');
    const rows = await bqRows(`SELECT id, TO_JSON_STRING(doc) AS doc FROM \`${BIGQUERY_PROJECT}.${DATASET}.x_rv_people\` ORDER BY id`);
    expect(rows.map((r) => [Number(r.id), r.doc])).toEqual([
      [1, `{"k":"${MARKERS[2]}"}`],
      [2, '"hello"'],
      [3, '[1,2,3]'],
    ]);
  });
});
