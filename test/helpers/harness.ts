import { BigQuery } from '@google-cloud/bigquery';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import mysql from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import { createBigQuery } from '../../bigquery/client';
import { summaryFromFailure } from '../../client/run-failure';
import type { RunSummary } from '../../common/payloads';
export { eventually } from './eventually';
import {
  BIGQUERY_ENDPOINT,
  BIGQUERY_LOCATION,
  BIGQUERY_PROJECT,
  MYSQL_URL,
  ON_EMULATOR,
  POSTGRES_URL,
  TEMPORAL_ADDRESS,
  TEMPORAL_UI_URL,
} from './env';

/** The emulator (plain staging files: it reads no gzip), or a real project when asked for. */
const BIGQUERY_CONFIG = ON_EMULATOR
  ? { project: BIGQUERY_PROJECT, location: 'US', endpoint: BIGQUERY_ENDPOINT, stagingCompression: 'none' as const }
  : { project: BIGQUERY_PROJECT, location: BIGQUERY_LOCATION, stagingCompression: 'gzip' as const };

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'client', 'cli.js');

/** A config for the test stack; `sources` and `pipelines` as in bqsync.yaml. */
export function testConfig(taskQueue: string, sources: object, pipelines: object): object {
  return {
    temporal: { address: TEMPORAL_ADDRESS, namespace: 'default', taskQueue, webUrl: TEMPORAL_UI_URL },
    bigquery: BIGQUERY_CONFIG,
    sources,
    pipelines,
  };
}

/**
 * A pipeline's `retry:` for tests whose failures are retried on the way to what they check:
 * the same attempts as the default, a second apart instead of 15 s (doubling).
 */
export const FAST_RETRY = { interval: '1s' };

export const mysqlSource = (dataset: string, extra: object = {}) => ({
  type: 'mysql',
  url: '${TEST_MYSQL_URL}',
  dataset,
  ...extra,
});

export const postgresSource = (dataset: string, extra: object = {}) => ({
  type: 'postgres',
  url: '${TEST_POSTGRES_URL}',
  schema: 'public',
  dataset,
  ...extra,
});

/** Connection URLs reach workers through the environment, as in production. */
export const SOURCE_ENV = { TEST_MYSQL_URL: MYSQL_URL, TEST_POSTGRES_URL: POSTGRES_URL };

export function writeConfig(config: object | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-test-'));
  const file = path.join(dir, 'bqsync.yaml');
  fs.writeFileSync(file, typeof config === 'string' ? config : stringify(config));
  return file;
}

export interface RunningWorker {
  process: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Starts `bqsync worker` as its own process, the way it runs in production. */
export async function startWorker(configFile: string, env: Record<string, string> = {}): Promise<RunningWorker> {
  const child = spawn(process.execPath, [CLI, 'worker', '--config', configFile], {
    // PostgreSQL rows are encoded on threads here whatever this machine's cores (by default
    // none on 2 cores): the main thread's encoding is the same code, held byte for byte equal
    // to the threads' in test/unit/threaded-encoding.test.ts.
    env: { ...process.env, ...SOURCE_ENV, BQSYNC_ENCODE_THREADS: '2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/state: 'RUNNING'|"state":"RUNNING"/.test(out)) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error(`worker exited before it ran:\n${out}`));
    });
  });
  return {
    process: child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `bqsync` CLI as an operator would. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...SOURCE_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `bqsync sync <tables> --wait`, as an operator runs it; returns what it printed, throws if it failed. */
export async function syncAndWait(file: string, tables: string[], extra: string[] = []): Promise<string> {
  const res = await runCli(['--config', file, 'sync', ...tables, '--wait', ...extra]);
  if (res.code !== 0) throw new Error(`sync ${tables.join(' ')} failed:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

export async function temporalClient(): Promise<Client> {
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: 'default' });
}

export function bigQuery(): BigQuery {
  return createBigQuery(BIGQUERY_CONFIG);
}

export async function bqRows(sql: string): Promise<Record<string, unknown>[]> {
  // INT64 as exact objects: a JS number cannot hold 2^63-1.
  const [rows] = await bigQuery().query({ query: sql, wrapIntegers: true });
  return rows;
}

export async function bqCount(dataset: string, table: string): Promise<number> {
  const rows = await bqRows(`SELECT COUNT(*) AS n FROM \`${BIGQUERY_PROJECT}.${dataset}.${table}\``);
  return Number(rows[0].n);
}

export async function mysqlConnection(): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

export async function postgresClient(): Promise<PgClient> {
  const client = new PgClient({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query("SET TimeZone = 'UTC'");
  return client;
}

/** The summary a failed run carries in its failure, as `bqsync runs`/`status` read it; throws if the run did not fail. */
export async function failedRunSummary(workflowId: string): Promise<RunSummary> {
  const client = await temporalClient();
  const err = await client.workflow
    .getHandle(workflowId)
    .result()
    .then(() => undefined, (e: unknown) => e)
    .finally(() => client.connection.close());
  if (!(err instanceof WorkflowFailedError)) throw new Error(`${workflowId} did not fail: ${String(err)}`);
  const summary = summaryFromFailure(err);
  if (!summary) throw new Error(`${workflowId} failed without a run summary: ${err.message}`);
  return summary;
}
