/**
 * A worker on ECS protects its task from scale-in while it syncs. The ECS agent's endpoint is
 * a local stand-in (test/helpers/fake-ecs-agent.ts: the agent's protocol, no ECS behind it),
 * passed to a real worker process as ECS_AGENT_URI. The table's extraction is held by a
 * write lock, so the sync is certainly running while the test looks.
 *
 * Proves: protection goes on while the sync runs (before it ends), stays on until the run
 * has ended, and goes off once the worker has been idle for BQSYNC_SCALE_IN_IDLE_SECONDS;
 * the table lands with exactly the source's rows.
 */
import { eventually, mysqlSource, runCli, RunningWorker, startWorker, testConfig, writeConfig } from '../helpers/harness';
import { FakeEcsAgent, startFakeEcsAgent } from '../helpers/fake-ecs-agent';
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import { createSmallTables, lockTables, runningExtractions } from '../helpers/source-tables';

const TABLE = 'x_scalein_big';
const IDLE_SECONDS = 3;

let agent: FakeEcsAgent;
let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  agent = await startFakeEcsAgent();
  await createSmallTables([TABLE], 500);
  file = writeConfig(testConfig('it-scalein', { shop: mysqlSource('it_scalein', { tables: [TABLE] }) }, { itscalein: { sources: ['shop'] } }));
  worker = await startWorker(file, { ECS_AGENT_URI: agent.uri, BQSYNC_SCALE_IN_IDLE_SECONDS: String(IDLE_SECONDS) });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await agent?.close();
});

describe('scale-in stops a task mid-sync', () => {
  test('the task is protected while the sync runs and released once the worker is idle', async () => {
    expect(agent.requests).toEqual([]); // an idle worker leaves its task unprotected
    const unlock = await lockTables([TABLE], { mysql: true });
    let run;
    try {
      run = runCli(['--config', file, 'run', 'itscalein', '--wait']);
      await eventually(async () => (await runningExtractions()).mysql === 1, 90_000, 'the locked extraction');
      // The sync is running (blocked on the lock): the task must be protected by now.
      await eventually(async () => agent.requests.length >= 1, 10_000, 'a protection request');
      expect(agent.requests[0].body).toEqual({ ProtectionEnabled: true, ExpiresInMinutes: 30 });
    } finally {
      await unlock();
    }
    const result = await run;
    const ended = Date.now();
    expect(result.stdout).toContain('pipeline itscalein: 1 succeeded, 0 failed, 0 skipped');
    // Until the run ended, nothing turned protection off.
    expect(agent.requests.filter((r) => r.at <= ended).every((r) => r.body.ProtectionEnabled === true)).toBe(true);
    const off = await eventually(async () => agent.requests.find((r) => r.body.ProtectionEnabled === false), 30_000, 'protection off');
    expect(off.body).toEqual({ ProtectionEnabled: false });
    expect(off.at - ended).toBeGreaterThanOrEqual((IDLE_SECONDS - 1) * 1000);
    expect(agent.requests.at(-1)).toBe(off);
    expect(worker.output()).toContain('scale-in protection on for 30 min');
    // Logged once the agent's answer is back, a moment after the request reached it.
    await eventually(() => worker.output().includes('scale-in protection off'), 10_000, 'the log line');
    expect(await expectSameRowsAsMysql(TABLE, 'it_scalein', ['id', 'label'])).toBe(500);
  }, 240_000);
});
