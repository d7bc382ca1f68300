import type { LoadedConfig } from '../../config/load';
import { listRuns, resolveRun, RunRecord } from '../run-history';
import { connectClient } from '../temporal';
import { syncCommand } from './sync';

const secs = (ms: number | undefined) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`);
const n = (v: number | undefined) => (v === undefined ? '-' : String(v));

/** Recent runs, newest first: start, status, duration, and tables succeeded/failed/skipped. */
export function formatRuns(runs: RunRecord[]): string {
  const header = ['STARTED', 'PIPELINE', 'STATUS', 'DURATION', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'RUN'];
  const rows = runs.map((r) => [
    r.startedAt.replace(/\.\d+Z$/, 'Z'),
    r.pipeline,
    r.late ? `${r.status}, late` : r.status,
    secs(r.durationMs),
    n(r.succeeded),
    n(r.failed),
    n(r.skipped),
    r.link,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export async function runsCommand(loaded: LoadedConfig, pipeline: string | undefined, limit: number, json: boolean): Promise<number> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit takes a whole number above 0, not "${limit}"`);
  const client = await connectClient(loaded.config);
  try {
    const runs = await listRuns(client, loaded.config, pipeline, limit);
    if (json) console.log(JSON.stringify(runs.map(({ summary: _summary, ...r }) => r), null, 2));
    else if (runs.length === 0) console.log(`no runs${pipeline ? ` of pipeline ${pipeline}` : ''} yet; start one with: bqsync run`);
    else console.log(formatRuns(runs));
    return 0;
  } finally {
    await client.connection.close();
  }
}

export interface RetryOptions {
  runId?: string;
  pipeline?: string;
  failed: boolean;
  wait: boolean;
  json: boolean;
}

/**
 * Re-runs the tables that failed in a run, through the same path as `sync`: added to the
 * pipeline's running run or a new run of just them, so a table never runs twice at once.
 */
export async function retryCommand(loaded: LoadedConfig, run: string, options: RetryOptions): Promise<number> {
  if (!options.failed) throw new Error('say what to retry: bqsync retry <run> --failed (the tables that failed in that run)');
  const client = await connectClient(loaded.config);
  let record: RunRecord;
  try {
    record = await resolveRun(client, loaded.config, run, options.runId, options.pipeline);
  } finally {
    await client.connection.close();
  }
  if (!record.summary) {
    throw new Error(`run ${record.workflowId} (${record.runId}) ended ${record.status} without a summary of its tables; ` + 'use bqsync sync <source.table> to name them');
  }
  // SQL steps run only in a whole-pipeline run; say so rather than drop them silently.
  const failedSteps = record.summary.results.filter((r) => r.status === 'failed' && r.kind === 'step').map((r) => r.key);
  const keys = record.summary.results.filter((r) => r.status === 'failed' && r.kind === 'table').map((r) => r.key);
  const note = failedSteps.length ? `failed SQL steps are not re-run alone (${failedSteps.join(', ')}): bqsync run ${record.pipeline}` : undefined;
  if (keys.length === 0) {
    if (options.json) console.log(JSON.stringify({ run: record.workflowId, runId: record.runId, retried: [], note }, null, 2));
    else console.log(`no failed tables in run ${record.workflowId} (${record.status}): ${record.link}${note ? `\n${note}` : ''}`);
    return 0;
  }
  if (!options.json) {
    console.log(`retrying ${keys.length} failed table(s) of ${record.workflowId} (run ${record.runId}): ${keys.join(', ')}`);
    if (note) console.log(note);
  }
  return syncCommand(loaded, keys, record.pipeline, options.wait, {
    json: options.json,
    retryOf: { workflowId: record.workflowId, runId: record.runId },
    summary: `Retry of the failed tables of ${record.workflowId} (run ${record.runId}): ${keys.join(', ')}`,
  });
}
