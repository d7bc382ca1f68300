/**
 * The benchmark's own stack and worker: a Temporal dev server (in memory) and a fresh
 * BigQuery emulator per run (the emulator slows down as its state grows), on ports apart
 * from the demo and test stacks, and `bqsync worker` as its own process.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { RunSummary } from '../common/payloads';

const ROOT = path.join(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'client', 'cli.js');

/** BQSYNC_BENCH_PORT_OFFSET=N moves the stack's ports (and its name) aside, for a second benchmark on the machine. */
const OFFSET = Number(process.env.BQSYNC_BENCH_PORT_OFFSET ?? 0);
const benchPort = (base: number) => String(base + OFFSET);

export const BENCH_STACK = {
  BQSYNC_STACK: OFFSET ? `bench${OFFSET}` : 'bench',
  BQSYNC_TEMPORAL_PORT: benchPort(7277),
  BQSYNC_TEMPORAL_UI_PORT: benchPort(8277),
  BQSYNC_BIGQUERY_PORT: benchPort(9177),
  BQSYNC_BIGQUERY_GRPC_PORT: benchPort(9187),
  BQSYNC_BIGQUERY_PROJECT: 'bqsync-bench',
  BQSYNC_TEMPORAL_IN_MEMORY: '1',
};
export type BenchStack = typeof BENCH_STACK;
export const temporalAddress = (s: BenchStack) => `127.0.0.1:${s.BQSYNC_TEMPORAL_PORT}`;
export const TEMPORAL_ADDRESS = temporalAddress(BENCH_STACK);

function stack(command: 'up' | 'down', s: BenchStack): void {
  execFileSync('bash', [path.join(ROOT, 'scripts', 'stack.sh'), command], { env: { ...process.env, ...s }, stdio: 'inherit' });
}

/** A new Temporal server and emulator, with nothing from an earlier run. */
export function freshStack(s: BenchStack = BENCH_STACK): void {
  stack('down', s);
  stack('up', s);
}

export const stopStack = (s: BenchStack = BENCH_STACK) => stack('down', s);

/** The process IDs scripts/stack.sh recorded for a stack's Temporal server and emulator. */
export function stackPids(s: BenchStack): { temporal: number; bigquery: number } {
  const cache = process.env.BQSYNC_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'bqsync');
  const pid = (name: string) => Number(fs.readFileSync(path.join(cache, `run-${s.BQSYNC_STACK}`, `${name}.pid`), 'utf8').trim());
  return { temporal: pid('temporal'), bigquery: pid('bigquery') };
}

export interface BenchRunConfig {
  /** Tables of each source, as discovery globs (the database is in sourceEnv's URLs). */
  include: string[];
  concurrencyPerSource: number;
  sources: BenchSource[];
}

export type BenchSource = 'mariadb' | 'postgres';

/** A bqsync.yaml for one benchmark run: both sources, the pipeline `bench`. */
export function writeBenchConfig(c: BenchRunConfig, s: BenchStack = BENCH_STACK): string {
  const source = (type: string, url: string, dataset: string) => ({
    type,
    url,
    dataset,
    concurrency: c.concurrencyPerSource,
    discover: { include: c.include },
  });
  const config = {
    temporal: { address: temporalAddress(s), namespace: 'default', taskQueue: 'bqsync-bench', webUrl: `http://127.0.0.1:${s.BQSYNC_TEMPORAL_UI_PORT}` },
    bigquery: {
      project: s.BQSYNC_BIGQUERY_PROJECT,
      location: 'US',
      endpoint: `http://127.0.0.1:${s.BQSYNC_BIGQUERY_PORT}`,
      stagingCompression: 'none',
    },
    sources: {
      mariadb: source('mysql', '${BENCH_MYSQL_URL}', 'bench_mariadb'),
      postgres: source('postgres', '${BENCH_POSTGRES_URL}', 'bench_postgres'),
    },
    pipelines: { bench: { sources: c.sources, concurrency: c.sources.length * c.concurrencyPerSource } },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-bench-config-'));
  const file = path.join(dir, 'bqsync.yaml');
  fs.writeFileSync(file, stringify(config));
  return file;
}

export function sourceEnv(database: string): Record<string, string> {
  return {
    BENCH_MYSQL_URL: `mysql://root@127.0.0.1:3306/${database}`,
    BENCH_POSTGRES_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
  };
}

export interface BenchWorker {
  pid: number;
  stop: () => Promise<void>;
}

/** `bqsync worker` (or another worker script given with its arguments) in its own process, ready when it reports RUNNING. */
export async function startWorker(configFile: string, env: Record<string, string>, script: string[] = [CLI, 'worker']): Promise<BenchWorker> {
  const child: ChildProcess = spawn(process.execPath, [...script, '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/state: 'RUNNING'|"state":"RUNNING"/.test(out)) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error(`the worker exited before it ran:\n${out}`));
    });
  });
  return {
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface RunResult {
  workflowId: string;
  runId: string;
  status: string;
  summary: RunSummary;
}

/** `bqsync run bench --wait --json`, as an operator would start it. */
export function runPipeline(configFile: string, env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--config', configFile, 'run', 'bench', '--wait', '--json'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', () => {
      try {
        // The last JSON document printed is the run's result.
        const start = stdout.lastIndexOf('\n{');
        resolve(JSON.parse(start >= 0 ? stdout.slice(start + 1) : stdout));
      } catch {
        reject(new Error(`bqsync run printed no result:\n${stdout}\n${stderr}`));
      }
    });
  });
}
