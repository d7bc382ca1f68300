/**
 * Faults: more requests than runs. (a) Two `bqsync run` processes of the same pipeline
 * start at the same moment, as two cron hosts or two operators would. (b) "Sync now"
 * requests arrive many times a second during a run, for the same few tables: CLI
 * processes and direct Temporal updates mixed. A write-locked first table holds the
 * source's single slot, so the run is certainly in progress while the requests arrive.
 *
 * Proves: one run executes and the other `run` exits 2 with "already running" and the
 * link to that run; every request is answered (queued, already queued, already running),
 * each table is queued once and synced once, with exactly the source's rows; the run ends
 * succeeded and its history stays small (the figure is printed).
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { addTablesUpdate } from '../../workflows';
import type { AddTablesResult, RunSummary } from '../../common/payloads';
import { TEMPORAL_UI_URL } from '../helpers/env';
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import {
  CliResult,
  eventually,
  mysqlConnection,
  mysqlSource,
  runCli,
  RunningWorker,
  startWorker,
  temporalClient,
  testConfig,
  writeConfig,
} from '../helpers/harness';
import { createSmallTables, lockTables, runningExtractions } from '../helpers/source-tables';

const TABLES = ['x_ct_lock', 'x_ct_1', 'x_ct_2', 'x_ct_3', 'x_ct_4'];
const config = testConfig(
  'it-contention',
  {
    shop: mysqlSource('it_ct_shop', { concurrency: 1, tables: TABLES }),
    // A run that fails (a missing table) and reports it to a webhook that answers slowly.
    ending: mysqlSource('it_ct_ending', { tables: ['x_ct_end_ok', 'x_ct_end_missing'] }),
  },
  {
    itcont: { sources: ['shop'], concurrency: 2 },
    itending: { sources: ['ending'], notify: { webhookUrlEnv: 'BQSYNC_TEST_WEBHOOK_URL' } },
  },
);

let worker: RunningWorker;
let file: string;
let webhook: http.Server;
/** Runs and table syncs of earlier test runs on a kept stack are not counted. */
let since: string;
/** Resolves when the webhook receives a post; the post is answered when `answer` is called. */
let posted: Promise<() => void>;

beforeAll(async () => {
  since = new Date().toISOString();
  await createSmallTables([...TABLES, 'x_ct_end_ok'], 30);
  const my = await mysqlConnection();
  await my.query('DROP TABLE IF EXISTS x_ct_end_missing');
  await my.end();
  let onPost!: (answer: () => void) => void;
  posted = new Promise((resolve) => (onPost = resolve));
  webhook = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => onPost(() => res.writeHead(200).end('ok')));
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  file = writeConfig(config);
  worker = await startWorker(file, { BQSYNC_TEST_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook` });
});

afterAll(async () => {
  await worker?.stop();
  webhook?.closeAllConnections();
  await new Promise((resolve) => webhook?.close(resolve));
  const my = await mysqlConnection();
  await my.query(`DROP TABLE IF EXISTS ${[...TABLES, 'x_ct_end_ok'].join(', ')}`);
  await my.end();
});

async function expectEveryTableExact(): Promise<void> {
  for (const t of TABLES) expect(await expectSameRowsAsMysql(t, 'it_ct_shop', ['id', 'label'])).toBeGreaterThanOrEqual(30);
}

/** The table syncs of the pipeline that Temporal knows of, per table. */
async function tableSyncsPerTable(): Promise<Record<string, number>> {
  const client = await temporalClient();
  try {
    const counts: Record<string, number> = {};
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'tableSync' AND BqsyncPipeline = 'itcont' AND StartTime > '${since}'` })) {
      const key = String(wf.searchAttributes?.BqsyncTable?.[0]);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  } finally {
    await client.connection.close();
  }
}

test('two runs started at once: one runs, the other is refused with the link to it', async () => {
  const unlock = await lockTables(['x_ct_lock'], { mysql: true });
  let results: CliResult[];
  try {
    const both = [runCli(['--config', file, 'run', 'itcont', '--wait']), runCli(['--config', file, 'run', 'itcont', '--wait'])];
    // The refused one returns while the other's run is held by the lock.
    await Promise.race(both);
    await eventually(async () => (await runningExtractions()).mysql === 1, 60_000, 'the run to block on the lock');
    await unlock();
    results = await Promise.all(both);
  } finally {
    await unlock().catch(() => undefined);
  }
  const winner = results.find((r) => r.code === 0);
  const loser = results.find((r) => r.code === 2);
  expect(results.map((r) => r.code).sort()).toEqual([0, 2]);
  const runId = /started bqsync-itcont \(run ([0-9a-f-]+)\)/.exec(winner!.stdout)?.[1];
  expect(runId).toBeDefined();
  expect(loser!.stderr).toBe(
    `pipeline itcont is already running: ${TEMPORAL_UI_URL}/namespaces/default/workflows/bqsync-itcont/${runId}/history\n` +
      'to sync one table now, use: bqsync sync <source.table>\n',
  );
  expect(loser!.stdout).toBe('');
  expect(winner!.stdout).toContain('pipeline itcont: 5 succeeded, 0 failed, 0 skipped');

  const client = await temporalClient();
  try {
    const runs = [];
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'nightlySync' AND BqsyncPipeline = 'itcont' AND StartTime > '${since}'` })) runs.push(wf.runId);
    expect(runs).toEqual([runId]);
  } finally {
    await client.connection.close();
  }
  expect(await tableSyncsPerTable()).toEqual(Object.fromEntries(TABLES.map((t) => [`shop.${t}`, 1])));
  await expectEveryTableExact();
});

test('"sync now" many times a second during a run: every request answered, each table synced once', async () => {
  // Rows added since the first test, so that a table the storm forgot would show.
  const my = await mysqlConnection();
  for (const t of TABLES) await my.query(`INSERT INTO ${t} VALUES (31, 'after the first run')`);
  await my.end();

  const unlock = await lockTables(['x_ct_lock'], { mysql: true });
  const client = await temporalClient();
  let runId: string;
  const answers: AddTablesResult[] = [];
  const cliRuns: CliResult[] = [];
  try {
    // A run of just x_ct_lock, blocked in its extraction; the storm asks for the rest.
    const started = await runCli(['--config', file, 'sync', 'shop.x_ct_lock']);
    expect(started.stdout).toContain('shop.x_ct_lock: queued');
    runId = /workflows\/bqsync-itcont\/([0-9a-f-]+)\/history/.exec(started.stdout)![1];
    await eventually(async () => (await runningExtractions()).mysql === 1, 60_000, 'the blocked extraction');

    const handle = client.workflow.getHandle('bqsync-itcont');
    const pick = (i: number) => [`shop.${TABLES[1 + (i % 4)]}`, `shop.${TABLES[1 + ((i + 1) % 4)]}`, 'shop.x_ct_lock'];
    const pending: Promise<void>[] = [];
    // 80 requests in 4 s: a CLI process every 250 ms, four Temporal updates in between.
    for (let i = 0; i < 16; i++) {
      pending.push(runCli(['--config', file, 'sync', ...pick(i)]).then((r) => void cliRuns.push(r)));
      for (let j = 0; j < 4; j++) {
        pending.push(handle.executeUpdate(addTablesUpdate, { args: [pick(i * 4 + j), {}] }).then((r) => void answers.push(...r)));
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all(pending);
  } finally {
    await unlock();
  }

  // Every CLI request exited 0 with one answer per table and the link to the same run.
  expect(cliRuns).toHaveLength(16);
  for (const r of cliRuns) {
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`/workflows/bqsync-itcont/${runId}/history`);
    for (const line of r.stdout.split('\n').filter((l) => l.startsWith('shop.'))) {
      const [key, text] = line.split(': ');
      answers.push({ key, outcome: ({ queued: 'queued', 'already queued in this run': 'already-queued', 'already running in this run': 'already-running' } as const)[text]! });
    }
  }
  expect(answers).toHaveLength(16 * 3 + 64 * 3);
  expect(answers.filter((a) => a.outcome === undefined)).toEqual([]);
  const tally: Record<string, Record<string, number>> = {};
  for (const a of answers) (tally[a.key] ??= {})[a.outcome] = (tally[a.key]?.[a.outcome] ?? 0) + 1;
  // Each table was queued by exactly one request; x_ct_lock was running throughout.
  for (const t of TABLES.slice(1)) expect(tally[`shop.${t}`].queued).toBe(1);
  expect(Object.keys(tally['shop.x_ct_lock'])).toEqual(['already-running']);

  let summary: RunSummary;
  let events: number;
  let updates: number;
  try {
    summary = await client.workflow.getHandle('bqsync-itcont', runId).result();
    const history = (await client.workflow.getHandle('bqsync-itcont', runId).fetchHistory()).events!;
    events = history.length;
    updates = history.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes).length;
  } finally {
    await client.connection.close();
  }
  console.log(`run-contention: ${answers.length} answers to 80 requests (${JSON.stringify(tally)}); the run's history has ${events} events, ${updates} updates`);
  expect(summary.failed).toBe(0);
  expect(summary.results.map((r) => [r.key, r.status, r.runs]).sort()).toEqual(TABLES.map((t) => [`shop.${t}`, 'succeeded', 1]).sort());
  // One update per request (and the one that started the run), 5 children: a few hundred
  // events, far below Temporal's 51,200.
  expect(updates).toBe(81);
  expect(events).toBeLessThan(800);
  expect(await tableSyncsPerTable()).toEqual(Object.fromEntries(TABLES.map((t) => [`shop.${t}`, 2])));
  for (const t of TABLES) expect(await expectSameRowsAsMysql(t, 'it_ct_shop', ['id', 'label'])).toBe(31);
});

test('"sync now" while a failed run reports and ends: the table goes to the next run, never to the one ending', async () => {
  const run = runCli(['--config', file, 'run', 'itending', '--wait']);
  // The run has failed and is posting to the webhook, which holds its answer.
  const answer = await posted;
  const client = await temporalClient();
  let endingRunId: string;
  try {
    endingRunId = (await client.workflow.getHandle('bqsync-itending').describe()).runId;
    expect((await client.workflow.getHandle('bqsync-itending').describe()).status.name).toBe('RUNNING');
  } finally {
    await client.connection.close();
  }
  const sync = runCli(['--config', file, 'sync', 'ending.x_ct_end_ok', '--wait']);
  await new Promise((r) => setTimeout(r, 3000));
  answer();
  const [ended, synced] = await Promise.all([run, sync]);
  expect(ended.code).toBe(1);
  expect(ended.stdout).toContain('pipeline itending: 1 succeeded, 1 failed, 0 skipped');
  expect(synced.stdout).toContain('ending.x_ct_end_ok: queued');
  const link = /workflows\/bqsync-itending\/([0-9a-f-]+)\/history/.exec(synced.stdout)?.[1];
  expect(link).toBeDefined();
  expect(link).not.toBe(endingRunId);
  expect(synced.stdout).toMatch(/ending\.x_ct_end_ok\s+succeeded\s+30\s+30/);
  expect(synced.code).toBe(0);
  expect(await expectSameRowsAsMysql('x_ct_end_ok', 'it_ct_ending', ['id', 'label'])).toBe(30);
});
