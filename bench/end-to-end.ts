/**
 * Whole runs into the emulator, each on a fresh stack and a fresh worker process:
 *   - the nightly tables (t_*) of both sources at each per-source concurrency limit, with
 *     the wall time, the orchestration overhead (bench/overhead.ts) and the worker's peak RSS;
 *   - one table at a time, bench_one (1 row) and bench_huge, for the worker's peak RSS at
 *     both ends of table size.
 *   node dist/bench/end-to-end.js [--database bqsync_bench] [--concurrency 1,2,4,8] [--memory-tables bench_one,bench_huge]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { overheadOf, OverheadReport } from './overhead';
import { peakRssMiB, table } from './report';
import { BenchSource, freshStack, runPipeline, sourceEnv, startWorker, stopStack, TEMPORAL_ADDRESS, writeBenchConfig } from './stack';

export interface RunFigure {
  what: string;
  sources: BenchSource[];
  concurrencyPerSource: number;
  tablesSucceeded: number;
  tablesFailed: number;
  rows: number;
  wallSeconds: number;
  workerPeakRssMiB: number;
  overhead: Omit<OverheadReport, 'tables'>;
}

async function oneRun(what: string, database: string, include: string[], sources: BenchSource[], concurrency: number): Promise<RunFigure> {
  freshStack();
  const config = writeBenchConfig({ include, sources, concurrencyPerSource: concurrency });
  const env = sourceEnv(database);
  const worker = await startWorker(config, env);
  try {
    const began = Date.now();
    const result = await runPipeline(config, env);
    const wallSeconds = (Date.now() - began) / 1000;
    const workerPeakRssMiB = peakRssMiB(worker.pid);
    // A failed run is reported, not thrown: its tables ok/failed column says so, and the
    // overhead still holds for the work that was done. Its reasons go to the console.
    if (result.status !== 'succeeded') console.error(`[bench] ${what}: the run ended ${result.status}: ${String((result as { error?: string }).error).slice(0, 3000)}`);
    const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
    try {
      const report = await overheadOf(new Client({ connection }), result.workflowId, result.runId, concurrency, concurrency * sources.length);
      const { tables, ...overhead } = report;
      const s = result.summary;
      if (tables.length !== s.succeeded + s.failed) throw new Error(`${what}: ${s.succeeded + s.failed} tables ran but the history holds ${tables.length}`);
      return { what, sources, concurrencyPerSource: concurrency, tablesSucceeded: s.succeeded, tablesFailed: s.failed, rows: s.rowsLoaded, wallSeconds, workerPeakRssMiB, overhead };
    } finally {
      await connection.close();
    }
  } finally {
    await worker.stop();
  }
}

export async function endToEndFigures(database: string, concurrency: number[], memoryTables: string[]): Promise<RunFigure[]> {
  const figures: RunFigure[] = [];
  try {
    for (const c of concurrency) {
      const f = await oneRun(`nightly tables, ${c} per source`, database, ['t_*'], ['mariadb', 'postgres'], c);
      console.log(formatRuns([f]));
      figures.push(f);
    }
    for (const t of memoryTables) {
      for (const source of ['mariadb', 'postgres'] as BenchSource[]) {
        const f = await oneRun(`${t} alone`, database, [t], [source], 1);
        console.log(formatRuns([f]));
        figures.push(f);
      }
    }
  } finally {
    stopStack();
  }
  return figures;
}

export function formatRuns(figures: RunFigure[]): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return table(
    ['run', 'sources', 'tables ok/failed/retried', 'rows', 'wall s', 'data-only s', 'overhead s', 'overhead share', 'per-table overhead ms', 'worker peak RSS MiB'],
    figures.map((f) => [
      f.what,
      f.sources.join('+'),
      `${f.tablesSucceeded}/${f.tablesFailed}/${f.overhead.retriedTables}`,
      f.rows.toLocaleString('en-US'),
      f.wallSeconds.toFixed(1),
      s(f.overhead.dataOnlyMs),
      s(f.overhead.overheadMs),
      `${((100 * f.overhead.overheadMs) / f.overhead.wallMs).toFixed(1)}%`,
      f.overhead.perTableOverheadMs.toFixed(0),
      f.workerPeakRssMiB.toFixed(0),
    ]),
  );
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'bqsync_bench' },
      concurrency: { type: 'string', default: '1,2,4,8' },
      'memory-tables': { type: 'string', default: 'bench_one,bench_huge' },
      json: { type: 'string' },
    },
  });
  const list = (v: string | undefined) => (v ? v.split(',').filter(Boolean) : []);
  endToEndFigures(values.database!, list(values.concurrency).map(Number), list(values['memory-tables'])).then(
    (figures) => {
      console.log(formatRuns(figures));
      if (values.json) fs.writeFileSync(values.json, JSON.stringify(figures, null, 2));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
