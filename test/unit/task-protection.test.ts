/**
 * ECS task scale-in protection against a local stand-in for the ECS agent's endpoint
 * (test/helpers/fake-ecs-agent.ts, protocol level): on with the first running activity,
 * renewed while activities run, off once the worker has been idle, never a thrown error.
 */
import { eventually } from '../helpers/eventually';
import { FakeEcsAgent, startFakeEcsAgent } from '../helpers/fake-ecs-agent';
import { taskProtection, TaskProtectionSettings } from '../../worker/task-protection';

let agent: FakeEcsAgent;
const warnings: string[] = [];

const settings = (over: Partial<TaskProtectionSettings> = {}): TaskProtectionSettings => ({
  agentUri: agent.uri,
  expiresInMinutes: 30,
  renewEveryMs: 60_000,
  idleMs: 300,
  warn: (m) => warnings.push(m),
  info: () => {},
  ...over,
});

beforeEach(async () => {
  agent = await startFakeEcsAgent();
  warnings.length = 0;
});
afterEach(() => agent.close());

const states = () => agent.requests.map((r) => r.body.ProtectionEnabled);

describe('scale-in stops a task mid-sync', () => {
  test('protection goes on with the first activity, once, and off only after the worker has been idle', async () => {
    const p = taskProtection(settings());
    p.activityStarted();
    p.activityStarted();
    await eventually(async () => agent.requests.length === 1, 5_000, 'protection on');
    expect(agent.requests[0].body).toEqual({ ProtectionEnabled: true, ExpiresInMinutes: 30 });
    p.activityEnded();
    // One activity still runs: protection stays on well past the idle time.
    await new Promise((r) => setTimeout(r, 600));
    expect(states()).toEqual([true]);
    const lastEnded = Date.now();
    p.activityEnded();
    await eventually(async () => agent.requests.length === 2, 5_000, 'protection off');
    expect(agent.requests[1].body).toEqual({ ProtectionEnabled: false });
    expect(agent.requests[1].at - lastEnded).toBeGreaterThanOrEqual(300);
    await p.close();
    expect(states()).toEqual([true, false]);
    expect(warnings).toEqual([]);
  });

  test('an activity that starts within the idle time keeps the protection on, without a request', async () => {
    const p = taskProtection(settings({ idleMs: 500 }));
    p.activityStarted();
    p.activityEnded();
    await new Promise((r) => setTimeout(r, 200));
    p.activityStarted();
    await new Promise((r) => setTimeout(r, 700));
    expect(states()).toEqual([true]);
    p.activityEnded();
    await eventually(async () => states().length === 2, 5_000, 'protection off');
    expect(states()).toEqual([true, false]);
  });

  test('a long sync renews the protection before it expires', async () => {
    const p = taskProtection(settings({ renewEveryMs: 200 }));
    p.activityStarted();
    await eventually(async () => agent.requests.length >= 4, 5_000, 'renewals');
    expect(states().slice(0, 4)).toEqual([true, true, true, true]);
    const gaps = agent.requests.slice(1, 4).map((r, i) => r.at - agent.requests[i].at);
    for (const gap of gaps) expect(gap).toBeLessThan(1_000);
    p.activityEnded();
    await p.close();
    expect(states().at(-1)).toBe(false);
  });

  test('an agent that refuses (no permission) is logged with what to grant; activities go on', async () => {
    agent.failWith({ status: 403, code: 'AccessDeniedException', message: 'Invalid Request: no task IAM role credentials available for task' });
    const p = taskProtection(settings());
    expect(() => p.activityStarted()).not.toThrow();
    await eventually(async () => warnings.length === 1, 5_000, 'a warning');
    expect(warnings[0]).toBe(
      'scale-in protection could not be turned on: AccessDeniedException: Invalid Request: no task IAM role credentials available for task ' +
        '(the task role needs ecs:UpdateTaskProtection)',
    );
    await p.close();
  });

  test('an agent that does not answer is logged; nothing throws', async () => {
    const uri = agent.uri;
    await agent.close();
    agent = await startFakeEcsAgent(); // for afterEach
    const p = taskProtection(settings({ agentUri: uri }));
    p.activityStarted();
    await eventually(async () => warnings.length === 1, 5_000, 'a warning');
    expect(warnings[0]).toMatch(/^scale-in protection could not be turned on: the ECS agent at http:\/\/127\.0\.0\.1:\d+\/api\/task-endpoint-id\/task-protection\/v1\/state did not answer/);
    await p.close();
  });

  test('outside ECS (no ECS_AGENT_URI) nothing is sent', async () => {
    const p = taskProtection(settings({ agentUri: undefined }));
    p.activityStarted();
    p.activityEnded();
    await new Promise((r) => setTimeout(r, 500));
    await p.close();
    expect(agent.requests).toEqual([]);
  });
});
