/**
 * The workflows on a real Temporal dev server with mocked activities: no database, no
 * BigQuery. Each pipeline name is a scenario with its own plan and table behaviour, so that
 * the scenarios of a file run side by side on one server and one worker.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { searchAttributes } from '../../common/search-attributes';
import type { NodeResult, RunPlan, RunSummary, StepTask, TableSyncOutcome, TableTask } from '../../common/payloads';
import { temporalExecutable } from './temporal-dev-server';
import { eventually } from './eventually';
import { makeWriteLockActivities } from '../../activities/write-locks';
import { awaitTableSync } from '../../activities/await-table-sync';
import type { LoadedConfig } from '../../config/load';
import type { WriteLockRequest } from '../../common/write-locks';

export const table = (key: string, after: string[] = [], extra: Partial<TableTask> = {}): TableTask => {
  const [source, name] = key.split('.');
  return { key, source, table: name, dataset: `${source}_raw`, destination: name, after, invalidValues: 'null', mode: 'replace', ...extra };
};

export const step = (key: string, after: string[], extra: Partial<StepTask> = {}): StepTask => ({ key, after, ...extra });

/** How a mocked table sync behaves, per attempt. */
export interface TableBehaviour {
  /** Throws this on the attempts it names (1-based); all attempts when `attempts` is absent. */
  fail?: { type?: string; message: string; attempts?: number[] };
  rows?: number;
  /** Waits for this before it returns (a table that keeps running until the test says so). */
  gate?: Promise<void>;
  ms?: number;
}

export interface Scenario {
  plan: RunPlan;
  /** Tables that "sync now" may add: planRun answers for them when asked by key. */
  extra?: TableTask[];
  tables?: Record<string, TableBehaviour>;
  /** SQL steps that fail, by step name. */
  steps?: Record<string, Pick<TableBehaviour, 'fail'>>;
}

/** What the mocked activities saw, in the order it happened. */
export interface Call {
  activity: 'planRun' | 'syncTable' | 'runStep' | 'notifyFailure' | 'notifyLate';
  pipeline: string;
  key?: string;
  attempt: number;
  input: unknown;
}

export class Deferred {
  resolve!: () => void;
  readonly promise = new Promise<void>((r) => (this.resolve = r));
}

export class MockActivities {
  readonly scenarios = new Map<string, Scenario>();
  readonly calls: Call[] = [];
  /** "start:<key>" and "end:<key>" per pipeline, in the order the activities ran. */
  readonly events = new Map<string, string[]>();
  private readonly running = new Map<string, TableTask[]>();
  /** The most table syncs that ran at once, per pipeline: in all and per source. */
  readonly peak = new Map<string, { total: number; perSource: Record<string, number> }>();
  private readonly gates: Deferred[] = [];

  add(pipeline: string, scenario: Scenario): void {
    this.scenarios.set(pipeline, scenario);
    this.events.set(pipeline, []);
    this.running.set(pipeline, []);
    this.peak.set(pipeline, { total: 0, perSource: {} });
  }

  gate(): Deferred {
    const d = new Deferred();
    this.gates.push(d);
    return d;
  }

  openAllGates(): void {
    for (const g of this.gates) g.resolve();
  }

  callsOf(pipeline: string, activity: Call['activity'], key?: string): Call[] {
    return this.calls.filter((c) => c.pipeline === pipeline && c.activity === activity && (key === undefined || c.key === key));
  }

  runningNow(pipeline: string): string[] {
    return this.running.get(pipeline)!.map((t) => t.key);
  }

  private scenario(pipeline: string): Scenario {
    const s = this.scenarios.get(pipeline);
    if (!s) throw ApplicationFailure.nonRetryable(`no scenario for pipeline ${pipeline}`, 'ConfigError');
    return s;
  }

  private record(activity: Call['activity'], pipeline: string, input: unknown, key?: string): void {
    this.calls.push({ activity, pipeline, key, attempt: Context.current().info.attempt, input });
  }

  /** The activity implementations, named as the workflows call them. */
  readonly activities = {
    planRun: async (input: { pipeline: string; tables?: string[]; fullRefresh?: boolean }): Promise<RunPlan> => {
      this.record('planRun', input.pipeline, input);
      const s = this.scenario(input.pipeline);
      if (!input.tables) return s.plan;
      const known = [...s.plan.tables, ...(s.extra ?? [])];
      const tables = known.filter((t) => input.tables!.includes(t.key));
      const unknown = input.tables
        .filter((k) => !tables.some((t) => t.key === k))
        .map((key) => ({ key, message: `${key}: no such table in the pipeline's sources` }));
      return { ...s.plan, tables: tables.map((t) => ({ ...t, fullRefresh: input.fullRefresh })), steps: [], unknown };
    },

    syncTable: async (task: TableTask): Promise<TableSyncOutcome> => {
      const pipeline = this.pipelineOf(task);
      this.record('syncTable', pipeline, task, task.key);
      const behaviour = this.scenario(pipeline).tables?.[task.key] ?? {};
      const running = this.running.get(pipeline)!;
      const events = this.events.get(pipeline)!;
      running.push(task);
      events.push(`start:${task.key}`);
      const peak = this.peak.get(pipeline)!;
      peak.total = Math.max(peak.total, running.length);
      const ofSource = running.filter((t) => t.source === task.source).length;
      peak.perSource[task.source] = Math.max(peak.perSource[task.source] ?? 0, ofSource);
      try {
        if (behaviour.gate) await heartbeatUntil(behaviour.gate);
        if (behaviour.ms) await new Promise((r) => setTimeout(r, behaviour.ms));
        const attempt = Context.current().info.attempt;
        const fail = behaviour.fail;
        if (fail && (!fail.attempts || fail.attempts.includes(attempt))) {
          // Retryable as thrown: only the workflow's retry policy decides whether it is retried.
          if (fail.type) throw ApplicationFailure.retryable(fail.message, fail.type);
          throw new Error(fail.message);
        }
        const rows = behaviour.rows ?? 10;
        return { rowsRead: rows, rowsLoaded: rows, bytesStaged: rows * 100, nulledValues: {}, mode: task.mode };
      } finally {
        running.splice(running.indexOf(task), 1);
        events.push(`end:${task.key}`);
      }
    },

    runStep: async (input: { pipeline: string; step: string }): Promise<void> => {
      this.record('runStep', input.pipeline, input, input.step);
      const events = this.events.get(input.pipeline)!;
      events.push(`start:${input.step}`);
      events.push(`end:${input.step}`);
      const fail = this.scenarios.get(input.pipeline)?.steps?.[input.step]?.fail;
      if (fail && (!fail.attempts || fail.attempts.includes(Context.current().info.attempt))) throw new Error(fail.message);
    },

    notifyFailure: async (input: { pipeline: string; summary: RunSummary }): Promise<void> => {
      this.record('notifyFailure', input.pipeline, input);
    },

    notifyLate: async (input: { pipeline: string; summary: RunSummary }): Promise<void> => {
      this.record('notifyLate', input.pipeline, input);
    },
  };

  /** A table task carries no pipeline: its dataset is unique to its scenario's plan. */
  private pipelineOf(task: TableTask): string {
    for (const [pipeline, s] of this.scenarios) {
      if ([...s.plan.tables, ...(s.extra ?? [])].some((t) => t.key === task.key && t.dataset === task.dataset)) return pipeline;
    }
    throw ApplicationFailure.nonRetryable(`no scenario has table ${task.key} in ${task.dataset}`, 'ConfigError');
  }
}

/** Heartbeats while it waits, as the real activity does, so that a long hold never times out. */
async function heartbeatUntil(gate: Promise<void>): Promise<void> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1000);
  try {
    await gate;
  } finally {
    clearInterval(timer);
  }
}

export const plan = (pipeline: string, tables: TableTask[], limits: { perSource?: Record<string, number>; global?: number; steps?: StepTask[] } = {}): RunPlan => ({
  pipeline,
  // Each scenario lands in datasets of its own, which is how a table sync finds its scenario.
  tables: tables.map((t) => ({ ...t, dataset: `${pipeline}_${t.source}` })),
  steps: limits.steps ?? [],
  sourceConcurrency: limits.perSource ?? Object.fromEntries([...new Set(tables.map((t) => t.source))].map((s) => [s, 8])),
  globalConcurrency: limits.global ?? 8,
  unknown: [],
});

/** The same dataset rule for tables that join a run later. */
export const extraTables = (pipeline: string, tables: TableTask[]): TableTask[] => tables.map((t) => ({ ...t, dataset: `${pipeline}_${t.source}` }));

export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  mocks: MockActivities;
  taskQueue: string;
  stop: () => Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/**
 * A dev server of the file's own (the Temporal CLI that is installed, nothing downloaded)
 * with bqsync's search attributes, and one worker running the bundled workflows against
 * the mocked activities. Call once per file, in beforeAll; `stop` in afterAll.
 */
export async function startWorkflowEnv(mocks: MockActivities): Promise<WorkflowTestEnv> {
  // Failed runs are what several tests expect; the worker's warnings about them would
  // drown jest's output. Errors still show.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalExecutable() },
      ip: '127.0.0.1',
      searchAttributes: Object.values(searchAttributes),
    },
  });
  const taskQueue = 'wf-test';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await bundle,
    activities: { ...writeLockActivities(), ...mocks.activities },
    shutdownGraceTime: '1s',
  });
  const running = worker.run();
  return {
    env,
    mocks,
    taskQueue,
    stop: async () => {
      mocks.openAllGates();
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/**
 * The write locks and awaitTableSync are real (they only talk to Temporal). Scenarios share source names but
 * not datasets: each scenario's source permits are its dataset's, so scenarios do not
 * throttle each other.
 */
function writeLockActivities() {
  const real = makeWriteLockActivities({ config: { bigquery: { project: 'wf-test' } } } as LoadedConfig);
  return {
    ...real,
    awaitTableSync,
    requestWriteLock: (r: WriteLockRequest) => real.requestWriteLock({ ...r, source: r.label.split('.')[0] }),
  };
}

/** A node of a summary by key. */
export const node = (summary: RunSummary, key: string): NodeResult => {
  const n = summary.results.find((r) => r.key === key);
  if (!n) throw new Error(`${key} is not in the summary: ${summary.results.map((r) => r.key).join(', ')}`);
  return n;
};

/** Polls (briefly: the workflow tests wait on in-memory mocks) until the check holds. */
export function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  return eventually(check, timeoutMs, what, 50);
}
