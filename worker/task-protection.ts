import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * ECS task scale-in protection, set by the task itself through the ECS agent's endpoint
 * (`$ECS_AGENT_URI/task-protection/v1/state`): on while activities run, so that scaling in
 * on low CPU (late at night, when only big tables are left) or a deployment does not stop a
 * task in the middle of a sync; off once the worker has been idle for a while, so that the
 * task can go. Outside ECS (no ECS_AGENT_URI) it does nothing.
 *
 * The agent calls ECS UpdateTaskProtection with the task role's credentials: the task role
 * needs ecs:UpdateTaskProtection (deploy/ grants it). Protection that is not renewed lapses
 * after `expiresInMinutes`, so a worker that dies never leaves its task protected for long.
 */

export interface TaskProtectionSettings {
  /** The ECS agent's URI (ECS_AGENT_URI); protection is off when undefined. */
  agentUri?: string;
  /** How long each request protects the task (1 to 2880 minutes). */
  expiresInMinutes: number;
  /** How often protection is renewed while wanted; well below the expiry. */
  renewEveryMs: number;
  /** How long the worker must be idle before protection is cleared. */
  idleMs: number;
  warn(message: string): void;
  info(message: string): void;
}

export const DEFAULT_PROTECTION = { expiresInMinutes: 30, renewEveryMs: 10 * 60_000, idleMs: 120_000 };

/** Counts running activities and keeps the task's protection in step with them. */
export interface TaskProtection {
  activityStarted(): void;
  activityEnded(): void;
  /** Stops the timers and clears protection; resolves when the agent has answered. */
  close(): Promise<void>;
}

const NOOP: TaskProtection = { activityStarted() {}, activityEnded() {}, close: async () => {} };

export function taskProtection(settings: TaskProtectionSettings): TaskProtection {
  if (!settings.agentUri) return NOOP;
  const url = `${settings.agentUri.replace(/\/+$/, '')}/task-protection/v1/state`;
  let running = 0;
  let protectedNow = false;
  let renewTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  // Requests go one after another, so the agent sees them in the order they were decided.
  let queue: Promise<void> = Promise.resolve();
  const send = (enabled: boolean) => {
    queue = queue.then(() => putState(url, enabled, settings));
    return queue;
  };
  const clear = () => {
    clearInterval(renewTimer);
    clearTimeout(idleTimer);
    renewTimer = idleTimer = undefined;
    if (!protectedNow) return Promise.resolve();
    protectedNow = false;
    return send(false);
  };
  return {
    activityStarted() {
      running += 1;
      clearTimeout(idleTimer);
      idleTimer = undefined;
      if (protectedNow) return;
      protectedNow = true;
      void send(true);
      // Renewed before it lapses, for syncs longer than the expiry.
      renewTimer = setInterval(() => void send(true), settings.renewEveryMs);
      renewTimer.unref();
    },
    activityEnded() {
      running = Math.max(0, running - 1);
      if (running > 0 || idleTimer) return;
      idleTimer = setTimeout(() => {
        idleTimer = undefined;
        if (running === 0) void clear();
      }, settings.idleMs);
      idleTimer.unref();
    },
    close: clear,
  };
}

/**
 * One PUT to the agent. A failure is logged, never thrown: protection is a safeguard, and
 * a sync must not fail because the agent could not be reached (the next renewal tries again).
 */
async function putState(url: string, enabled: boolean, settings: TaskProtectionSettings): Promise<void> {
  const body = enabled ? { ProtectionEnabled: true, ExpiresInMinutes: settings.expiresInMinutes } : { ProtectionEnabled: false };
  const what = enabled ? `on for ${settings.expiresInMinutes} min` : 'off';
  try {
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await res.json().catch(() => ({}))) as AgentAnswer;
    const problem = agentProblem(res.status, answer);
    if (problem) settings.warn(`scale-in protection could not be turned ${enabled ? 'on' : 'off'}: ${problem}`);
    else settings.info(`scale-in protection ${what}`);
  } catch (err) {
    settings.warn(`scale-in protection could not be turned ${enabled ? 'on' : 'off'}: the ECS agent at ${url} did not answer (${(err as Error).message})`);
  }
}

/** What the agent answers: the protection, or ECS's failure, or an error (e.g. AccessDeniedException). */
interface AgentAnswer {
  protection?: { ProtectionEnabled?: boolean };
  failure?: { Reason?: string; Detail?: string };
  error?: { Code?: string; Message?: string };
}

function agentProblem(status: number, answer: AgentAnswer): string | undefined {
  if (answer.error) {
    const hint = answer.error.Code === 'AccessDeniedException' ? ' (the task role needs ecs:UpdateTaskProtection)' : '';
    return `${answer.error.Code ?? `HTTP ${status}`}: ${answer.error.Message ?? ''}${hint}`;
  }
  if (answer.failure) return `${answer.failure.Reason ?? 'failure'}${answer.failure.Detail ? `: ${answer.failure.Detail}` : ''}`;
  if (status < 200 || status >= 300) return `HTTP ${status}`;
  return undefined;
}

/** Every activity of the worker (table syncs, SQL steps, planning) counts as running work. */
export function protectWhileRunning(protection: TaskProtection): ActivityInterceptorsFactory {
  return () => ({
    inbound: {
      async execute(input, next) {
        protection.activityStarted();
        try {
          return await next(input);
        } finally {
          protection.activityEnded();
        }
      },
    },
  });
}
