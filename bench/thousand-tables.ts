/**
 * A run of 1,000 small tables (500 per source by default, a few rows each), to measure
 * orchestration rather than BigQuery: wall time, overhead (bench/overhead.ts), history
 * events per table, the run's continue-as-new count and the gap in starts around each,
 * time a free slot stood idle while a table waited, the worker's peak RSS, and the CPU
 * the worker, the Temporal dev server and the emulator used. Each concurrency gets a
 * fresh stack of its own ports (apart from the bench, demo and test stacks).
 * Without `--stand-in-ms` every table loads into the emulator (about 1 s per 3-row table
 * with the patched emulator, scripts/bigquery-emulator-lazy-jobs.patch). `--stand-in-ms`
 * runs the tables on bench/stand-in-worker.ts, whose data activity waits that long instead
 * of loading, so that the figures are orchestration's alone: everything else is real. `--run-tables`
 * syncs only the first N tables of each source. `--floor` first runs the same tables on
 * Temporal alone (bench/temporal-floor.ts: a child and one waiting activity per table, on
 * a fresh stack) and prints its overhead beside bqsync's.
 *   node dist/bench/thousand-tables.js [--database bqsync_bench_thousand] [--tables-per-source 500]
 *        [--rows 3] [--run-tables 500] [--stand-in-ms 0 [--workflow-bundle file]] [--concurrency 4,16] [--floor] [--json file] [--force]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { writeLocksWorkflowId } from '../common/write-locks';
import { mixDdl, mixSelect } from './column-mixes';
import { SERVER_URLS } from './generate';
import { executionHistories, OverheadFigures, overheadFigures, overheadOfExecutions } from './overhead';
import { peakRssMiB, table } from './report';
import { meanPhases, TablePhases } from './table-phases';
import { TaskTimes, taskTimes } from './workflow-task-times';
import { handoverGaps, HandoverGap, idleSlots, IdleSlots } from './scheduling-gaps';
import { FloorFigure, temporalFloor } from './temporal-floor';
import { BenchStack, freshStack, runPipeline, sourceEnv, stackPids, startWorker, stopStack, temporalAddress, writeBenchConfig } from './stack';

export const THOUSAND_STACK: BenchStack = {
  BQSYNC_STACK: 'bench-thousand',
  BQSYNC_TEMPORAL_PORT: '7288',
  BQSYNC_TEMPORAL_UI_PORT: '8288',
  BQSYNC_BIGQUERY_PORT: '9198',
  BQSYNC_BIGQUERY_GRPC_PORT: '9208',
  BQSYNC_BIGQUERY_PROJECT: 'bqsync-bench',
  BQSYNC_TEMPORAL_IN_MEMORY: '1',
};

const TABLE_PREFIX = 'many_';
const tableName = (i: number) => `${TABLE_PREFIX}${String(i).padStart(4, '0')}`;

/** The small tables in both databases (narrow columns), skipped when the same shape is there. */
export async function generateSmallTables(database: string, perSource: number, rows: number, force = false): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database)) throw new Error(`--database "${database}" must be letters, digits and _`);
  const names = Array.from({ length: perSource }, (_, i) => tableName(i + 1));
  const same = (r: Record<string, unknown> | undefined) => r !== undefined && Number(r.tables) === perSource && Number(r.table_rows) === rows;

  const my = await mysql.createConnection({ uri: SERVER_URLS.mysql });
  try {
    const info = await my
      .query(`SELECT * FROM \`${database}\`._small_info`)
      .then(([r]) => (r as Record<string, unknown>[])[0])
      .catch(() => undefined);
    if (force || !same(info)) {
      await my.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await my.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await my.query(`USE \`${database}\``);
      await my.query("SET time_zone = '+00:00'");
      for (const name of names) {
        await my.query(`CREATE TABLE ${name} ${mixDdl('narrow', 'mysql')}`);
        await my.query(`INSERT INTO ${name} SELECT ${mixSelect('narrow', 'mysql', 'seq')} FROM seq_1_to_${rows}`);
      }
      await my.query('CREATE TABLE _small_info (tables INT, table_rows INT)');
      await my.query('INSERT INTO _small_info VALUES (?, ?)', [perSource, rows]);
    }
  } finally {
    await my.end();
  }

  const admin = new PgClient({ connectionString: SERVER_URLS.postgres });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const pg = new PgClient({ connectionString: SERVER_URLS.postgres.replace(/\/[^/?]*(\?|$)/, `/${database}$1`) });
  await pg.connect();
  try {
    const info = await pg
      .query('SELECT * FROM public._small_info')
      .then((r) => r.rows[0])
      .catch(() => undefined);
    if (force || !same(info)) {
      await pg.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
      for (const name of names) {
        await pg.query(`CREATE TABLE ${name} ${mixDdl('narrow', 'postgres')}`);
        await pg.query(`INSERT INTO ${name} SELECT ${mixSelect('narrow', 'postgres', 's')} FROM generate_series(1, ${rows}) s`);
      }
      await pg.query('CREATE TABLE _small_info (tables int, table_rows int)');
      await pg.query('INSERT INTO _small_info VALUES ($1, $2)', [perSource, rows]);
      await pg.query('VACUUM ANALYZE');
    }
  } finally {
    await pg.end();
  }
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface ThousandOptions {
  /** Tables of each source the run syncs (the first ones). */
  runTables: number;
  /** 0: the real data activity into the emulator; else the stand-in worker, its activity this long. */
  standInMs: number;
  /** The stand-in worker's workflow bundle, when not this build's. */
  workflowBundle?: string;
  /** Also run the same tables on Temporal alone (bench/temporal-floor.ts), before each run. */
  floor?: boolean;
}

export interface ThousandFigure extends OverheadFigures {
  concurrencyPerSource: number;
  standInMs: number;
  tables: number;
  succeeded: number;
  failed: number;
  retried: number;
  rows: number;
  meanActivityMs: number;
  /** Executions of the run's workflow ID (continue-as-new count + 1). */
  executions: number;
  runEvents: number;
  childEventsMean: number;
  childEventsMax: number;
  lockEvents: number;
  lockExecutions: number;
  /** Where a table sync's orchestration time went (means over the tables). */
  phases: TablePhases & { startMs: number; heardMs: number };
  /** The workflow tasks of the run (all its executions) and of the lock workflow. */
  runTasks: TaskTimes;
  lockTasks: TaskTimes;
  handovers: HandoverGap[];
  idle: IdleSlots;
  workerPeakRssMiB: number;
  /** Worker RSS when half the run's wall time had passed, and at its end. */
  workerRssHalfwayMiB: number;
  workerRssEndMiB: number;
  cpuSeconds: { worker: number; temporal: number; emulator: number; bench: number };
  /** The same tables on Temporal alone, measured just before (with `--floor`). */
  floor?: FloorFigure;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

const label = (f: ThousandFigure) => `${f.tables} tables, ${f.concurrencyPerSource} / ${2 * f.concurrencyPerSource}${f.standInMs ? `, stand-in ${f.standInMs} ms` : ', emulator'}`;

async function oneRun(database: string, perSource: number, concurrency: number, o: ThousandOptions): Promise<ThousandFigure> {
  freshStack(THOUSAND_STACK);
  const include = o.runTables >= perSource ? [`${TABLE_PREFIX}*`] : Array.from({ length: o.runTables }, (_, i) => tableName(i + 1));
  const config = writeBenchConfig({ include, sources: ['mariadb', 'postgres'], concurrencyPerSource: concurrency }, THOUSAND_STACK);
  const env = sourceEnv(database);
  const standIn = [path.join(__dirname, 'stand-in-worker.js'), '--activity-ms', String(o.standInMs), ...(o.workflowBundle ? ['--workflow-bundle', o.workflowBundle] : [])];
  const worker = await startWorker(config, env, o.standInMs > 0 ? standIn : undefined);
  const stack = stackPids(THOUSAND_STACK);
  const samples: { at: number; rss: number }[] = [];
  try {
    const cpuBefore = { worker: cpuSeconds(worker.pid), temporal: cpuSeconds(stack.temporal), emulator: cpuSeconds(stack.bigquery), bench: process.cpuUsage() };
    const began = Date.now();
    const sampler = setInterval(() => samples.push({ at: Date.now() - began, rss: rssMiB(worker.pid) }), 1000);
    const result = await runPipeline(config, env).finally(() => clearInterval(sampler));
    const wallSeconds = (Date.now() - began) / 1000;
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const cpu = {
      worker: cpuSeconds(worker.pid) - cpuBefore.worker,
      temporal: cpuSeconds(stack.temporal) - cpuBefore.temporal,
      emulator: cpuSeconds(stack.bigquery) - cpuBefore.emulator,
      bench: (benchCpu.user + benchCpu.system) / 1e6,
    };
    const workerPeakRssMiB = peakRssMiB(worker.pid);
    if (result.status !== 'succeeded') console.error(`[bench] the run ended ${result.status}: ${String((result as { error?: string }).error).slice(0, 3000)}`);
    const connection = await Connection.connect({ address: temporalAddress(THOUSAND_STACK) });
    try {
      const client = new Client({ connection });
      const executions = await executionHistories(client, result.workflowId, result.runId);
      const report = await overheadOfExecutions(client, executions, concurrency, 2 * concurrency);
      const lock = await client.workflow.getHandle(writeLocksWorkflowId('bqsync-bench')).describe();
      const lockRuns = await executionHistories(client, lock.workflowId, lock.runId);
      const t = report.tables;
      const s = result.summary;
      const halfway = samples.filter((x) => x.at <= (wallSeconds * 1000) / 2).pop();
      return {
        concurrencyPerSource: concurrency,
        standInMs: o.standInMs,
        tables: t.length,
        succeeded: s.succeeded,
        failed: s.failed,
        retried: report.retriedTables,
        rows: s.rowsLoaded,
        ...overheadFigures(report),
        // The bench's own clock, from the run's start request to its result.
        wallSeconds,
        meanActivityMs: t.reduce((n, x) => n + x.activityMs, 0) / Math.max(1, t.length),
        executions: executions.length,
        runEvents: executions.reduce((n, e) => n + e.length, 0),
        childEventsMean: t.reduce((n, x) => n + x.events, 0) / Math.max(1, t.length),
        childEventsMax: Math.max(...t.map((x) => x.events)),
        lockEvents: lockRuns.reduce((n, e) => n + e.length, 0),
        lockExecutions: lockRuns.length,
        phases: { ...meanPhases(t.map((x) => x.phases)), startMs: mean(t.map((x) => x.startMs)), heardMs: mean(t.map((x) => x.heardMs)) },
        runTasks: taskTimes(executions),
        lockTasks: taskTimes(lockRuns),
        handovers: handoverGaps(executions),
        idle: idleSlots(t, concurrency),
        workerPeakRssMiB,
        workerRssHalfwayMiB: halfway?.rss ?? NaN,
        workerRssEndMiB: samples[samples.length - 1]?.rss ?? NaN,
        cpuSeconds: cpu,
      };
    } finally {
      await connection.close();
    }
  } finally {
    await worker.stop();
  }
}

export async function thousandTablesFigures(
  database: string,
  perSource: number,
  rows: number,
  concurrency: number[],
  o: ThousandOptions = { runTables: perSource, standInMs: 0 },
  force = false,
): Promise<ThousandFigure[]> {
  const began = Date.now();
  await generateSmallTables(database, perSource, rows, force);
  console.log(`[bench] ${database}: ${perSource} tables of ${rows} rows per source (${((Date.now() - began) / 1000).toFixed(0)} s)`);
  const figures: ThousandFigure[] = [];
  try {
    for (const c of concurrency) {
      const floor = o.floor ? await floorRun(perSource, c, o) : undefined;
      const f = { ...(await oneRun(database, perSource, c, o)), ...(floor && { floor }) };
      console.log(formatThousand([f]));
      figures.push(f);
    }
  } finally {
    stopStack(THOUSAND_STACK);
  }
  return figures;
}

/** The run's tables on Temporal alone: same names, limits and activity time (2,000 ms when the run loads for real). */
function floorRun(perSource: number, concurrency: number, o: ThousandOptions): Promise<FloorFigure> {
  const count = Math.min(o.runTables, perSource);
  const tables = (['mariadb', 'postgres'] as const).flatMap((source) => Array.from({ length: count }, (_, i) => ({ source, name: tableName(i + 1) })));
  return temporalFloor(THOUSAND_STACK, { tables, perSource: concurrency, perRun: 2 * concurrency, activityMs: o.standInMs || 2000 });
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');

/** The overhead columns every run table prints: wall s, data-only s, overhead s (share), per-table ms. */
const overheadCells = (f: OverheadFigures) => [
  f.wallSeconds.toFixed(1),
  f.dataOnlySeconds.toFixed(1),
  `${f.overheadSeconds.toFixed(1)} (${(100 * f.overheadShare).toFixed(1)}%)`,
  `${ms(f.perTableOverheadMs)}, ${ms(f.perTableOverheadP50Ms)}, ${ms(f.perTableOverheadP95Ms)}`,
];

/** Each run beside Temporal's floor for the same tables: what bqsync adds on top of a child and an activity per table. */
function formatFloors(figures: ThousandFigure[]): string {
  const cpu = (c: { worker: number; temporal: number }) => `${c.worker.toFixed(0)}, ${c.temporal.toFixed(0)}`;
  const rows = figures.flatMap((f) => {
    if (!f.floor) return [];
    const x = f.floor;
    return [
      [`${x.tables} tables, ${x.perSource} / ${x.perRun}, ${x.activityMs} ms`, 'Temporal alone: a child and one activity per table', ...overheadCells(x), x.childEventsMean.toFixed(1), x.runEventsPerTable.toFixed(1), cpu(x.cpuSeconds)],
      [label(f), 'bqsync', ...overheadCells(f), f.childEventsMean.toFixed(1), (f.runEvents / Math.max(1, f.tables)).toFixed(1), cpu(f.cpuSeconds)],
    ];
  });
  if (rows.length === 0) return '';
  return table(['tables, per source / run, data activity', 'what ran', 'wall s', 'data-only s', 'overhead s (share)', 'per-table overhead ms: mean, p50, p95', 'child events (mean)', 'run events ÷ tables', 'CPU s: worker, Temporal'], rows);
}

export function formatThousand(figures: ThousandFigure[]): string {
  const runs = table(
    ['tables, per source / run, data activity', 'tables ok/failed/retried', 'wall s', 'data-only s', 'overhead s (share)', 'per-table overhead ms: mean, p50, p95', 'activity ms (mean)', 'worker peak RSS MiB (halfway, end)', 'CPU s: worker, Temporal, emulator'],
    figures.map((f) => [
      label(f),
      `${f.succeeded}/${f.failed}/${f.retried}`,
      ...overheadCells(f),
      ms(f.meanActivityMs),
      `${ms(f.workerPeakRssMiB)} (${ms(f.workerRssHalfwayMiB)}, ${ms(f.workerRssEndMiB)})`,
      `${f.cpuSeconds.worker.toFixed(0)}, ${f.cpuSeconds.temporal.toFixed(0)}, ${f.cpuSeconds.emulator.toFixed(0)}`,
    ]),
  );
  const history = table(
    ['tables, per source / run, data activity', 'run executions (continue-as-new)', 'table sync events (mean, max)', 'run events ÷ tables', 'lock workflow events ÷ tables (executions)'],
    figures.map((f) => [
      label(f),
      `${f.executions} (${f.executions - 1})`,
      `${f.childEventsMean.toFixed(1)}, ${f.childEventsMax}`,
      (f.runEvents / Math.max(1, f.tables)).toFixed(1),
      `${(f.lockEvents / Math.max(1, f.tables)).toFixed(1)} (${f.lockExecutions})`,
    ]),
  );
  const stalls = table(
    ['tables, per source / run, data activity', 'continue-as-new at s: children started, gap in starts ms, input KiB', 'median end-to-next-start ms', 'idle slot with a table waiting: total s, longest ms (at s)'],
    figures.map((f) => [
      label(f),
      f.handovers.map((h) => `${(h.atMs / 1000).toFixed(0)}: ${h.started}, ${ms(h.gapMs)}, ${(h.inputBytes / 1024).toFixed(0)}`).join('; ') || 'none',
      ms(f.idle.medianTurnaroundMs),
      `${(f.idle.totalMs / 1000).toFixed(1)}, ${ms(f.idle.longestMs)} (${(f.idle.longestAtMs / 1000).toFixed(0)}, ${f.idle.longestSource})`,
    ]),
  );
  const phases = table(
    ['tables, per source / run, data activity', 'run → table sync started', 'workflow tasks', 'waiting for a worker', 'worker answering', 'write lock asked → granted', 'data done → closed', 'closed → run heard'],
    figures.map((f) => [
      label(f),
      ms(f.phases.startMs),
      f.phases.workflowTasks.toFixed(1),
      ms(f.phases.taskQueueMs),
      ms(f.phases.taskRunMs),
      ms(f.phases.lockMs),
      ms(f.phases.closeMs),
      ms(f.phases.heardMs),
    ]),
  );
  const tasks = table(
    ['tables, per source / run, data activity', 'workflow', 'workflow tasks', 'waiting for a worker ms (mean)', 'worker answering ms: mean, p95, max', 'worker answering, total s'],
    figures.flatMap((f) =>
      (['run', 'lock workflow'] as const).map((w) => {
        const x = w === 'run' ? f.runTasks : f.lockTasks;
        return [label(f), w, String(x.tasks), ms(x.queueMeanMs), `${ms(x.runMeanMs)}, ${ms(x.runP95Ms)}, ${ms(x.runMaxMs)}`, (x.runTotalMs / 1000).toFixed(1)];
      }),
    ),
  );
  const floors = formatFloors(figures);
  return [runs, '', history, '', stalls, '', phases, '', tasks, ...(floors ? ['', floors] : [])].join('\n');
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'bqsync_bench_thousand' },
      'tables-per-source': { type: 'string', default: '500' },
      rows: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '4,16' },
      'run-tables': { type: 'string' },
      'stand-in-ms': { type: 'string', default: '0' },
      'workflow-bundle': { type: 'string' },
      floor: { type: 'boolean', default: false },
      json: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const perSource = Number(values['tables-per-source']);
  const options = { runTables: Number(values['run-tables'] ?? perSource), standInMs: Number(values['stand-in-ms']), workflowBundle: values['workflow-bundle'], floor: values.floor };
  thousandTablesFigures(values.database!, perSource, Number(values.rows), values.concurrency!.split(',').filter(Boolean).map(Number), options, values.force).then(
    (figures) => {
      console.log(formatThousand(figures));
      if (values.json) fs.writeFileSync(values.json, JSON.stringify(figures, null, 2));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
