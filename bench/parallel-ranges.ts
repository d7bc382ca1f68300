/**
 * One large table read in key ranges by one worker, then by two worker processes, in the
 * same run and on the same fresh stack each time: wall time, rows/s, the ratio, the CPU the
 * workers used and their peak memory, the emulator's, and which worker took how many ranges.
 * After each sync, outside its time, the destination is compared with the source row by row
 * (every value of every row, bench/row-compare.ts; a MariaDB table of the narrow mix) and the
 * run fails if any row differs. `--verify checksum` has the sync compare the content itself
 * too, which on the emulator takes far longer than the load (README "Verifying content").
 *   node dist/bench/parallel-ranges.js [--database bqsync_bench] [--table bench_huge]
 *        [--chunk-rows 1000000] [--parallel 2] [--repeat 1] [--verify counts|checksum]
 *        [--compare-bucket-rows 250000] [--compare-page-rows 50000] [--compare-after each|parallel|none]
 *        [--generate-rows N (creates --table with N narrow rows when it is missing)]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { stringify } from 'yaml';
import type { NodeResult } from '../common/payloads';
import { createBigQuery } from '../bigquery/client';
import type { Config } from '../config/schema';
import { mixDdl, mixSelect } from './column-mixes';
import { peakRssMiB, resetPeakRss, table } from './report';
import { compareRows, describeCompare, RowCompareResult, rowsAreSame } from './row-compare';
import { BENCH_STACK, BenchSource, BenchWorker, freshStack, runPipeline, sourceEnv, stackPids, startWorker, stopStack, TEMPORAL_ADDRESS } from './stack';

export interface RangesFigure {
  workers: number;
  rows: number;
  ranges: number;
  wallSeconds: number;
  rowsPerSecond: number;
  /** user + system CPU seconds of the worker processes. */
  workerCpuSeconds: number;
  /** Ranges each worker completed, by worker. */
  rangesByWorker: Record<string, number>;
  /** From the first range's start to the last range's end: the reads and their loads. */
  rangesSeconds: number;
  /** The finish: staging count, swap, destination count, content verification. */
  finishSeconds: number;
  contentVerified: string;
  /** Peak RSS of each worker process over its life (started just before the sync). */
  workerPeakRssMiB: number[];
  /** Peak RSS of the emulator from its start to the sync's end. */
  emulatorPeakRssMiB: number;
  /** The row-by-row comparison after the sync, unless `compareAfter` left it out. */
  compare?: RowCompareResult;
  /** Peak RSS of the emulator during the comparison. */
  compareEmulatorPeakRssMiB?: number;
  status: string;
}

export interface RangesOptions {
  database: string;
  table: string;
  engine: BenchSource;
  chunkRows: number;
  parallel: number;
  verify: 'counts' | 'checksum';
  /**
   * Keys per destination query of the row-by-row comparison. Each query scans the emulator's
   * whole table; a result of 1,000,000 rows runs the emulator's SQLite out of memory.
   */
  compareBucketRows?: number;
  /** Destination rows per page the comparison reads. */
  comparePageRows?: number;
  /** Which syncs are compared row by row: each (the default), only those with more than one worker, or none. */
  compareAfter?: 'each' | 'parallel' | 'none';
}

function writeConfig(o: RangesOptions): string {
  const source = {
    type: o.engine === 'mariadb' ? 'mysql' : 'postgres',
    url: o.engine === 'mariadb' ? '${BENCH_MYSQL_URL}' : '${BENCH_POSTGRES_URL}',
    dataset: `bench_ranges_${o.engine}`,
    concurrency: o.parallel,
    tables: [{ name: o.table, chunkRows: o.chunkRows, parallelRanges: o.parallel, verify: o.verify }],
  };
  const config = {
    temporal: { address: TEMPORAL_ADDRESS, namespace: 'default', taskQueue: 'bqsync-bench-ranges' },
    bigquery: { project: BENCH_STACK.BQSYNC_BIGQUERY_PROJECT, location: 'US', endpoint: `http://127.0.0.1:${BENCH_STACK.BQSYNC_BIGQUERY_PORT}`, stagingCompression: 'none' },
    sources: { [o.engine]: source },
    pipelines: { bench: { sources: [o.engine] } },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-bench-ranges-'));
  const file = path.join(dir, 'bqsync.yaml');
  fs.writeFileSync(file, stringify(config));
  return file;
}

/** user + system CPU seconds a live process has used (/proc/<pid>/stat, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface RangeHistory {
  byWorker: Record<string, number>;
  rangesSeconds: number;
  finishSeconds: number;
}

/** From the table sync's history: how many key ranges each worker completed, and how long the ranges and the finish took. */
async function rangeHistory(tableWorkflowId: string): Promise<RangeHistory> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  try {
    const history = await new Client({ connection }).workflow.getHandle(tableWorkflowId).fetchHistory();
    const at = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
      Number(e.eventTime?.seconds ?? 0) + (e.eventTime?.nanos ?? 0) / 1e9;
    const ranges = new Set<string>();
    const finish = new Set<string>();
    const startedBy = new Map<string, string>();
    const byWorker: Record<string, number> = {};
    let first = Infinity;
    let last = 0;
    let finishFrom = 0;
    let finishTo = 0;
    for (const e of history.events ?? []) {
      const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type === 'syncRange') ranges.add(String(e.eventId));
      if (type === 'finishRanges') finish.add(String(e.eventId));
      const st = e.activityTaskStartedEventAttributes;
      if (st && ranges.has(String(st.scheduledEventId))) {
        startedBy.set(String(st.scheduledEventId), st.identity ?? '?');
        first = Math.min(first, at(e));
      }
      if (st && finish.has(String(st.scheduledEventId))) finishFrom = at(e);
      const done = e.activityTaskCompletedEventAttributes;
      if (done && startedBy.has(String(done.scheduledEventId))) {
        const who = startedBy.get(String(done.scheduledEventId))!;
        byWorker[who] = (byWorker[who] ?? 0) + 1;
        last = Math.max(last, at(e));
      }
      if (done && finish.has(String(done.scheduledEventId))) finishTo = at(e);
    }
    return { byWorker, rangesSeconds: Math.max(0, last - first), finishSeconds: Math.max(0, finishTo - finishFrom) };
  } finally {
    await connection.close();
  }
}

async function oneSync(o: RangesOptions, workerCount: number): Promise<RangesFigure> {
  freshStack();
  const config = writeConfig(o);
  const env = sourceEnv(o.database);
  const workers: BenchWorker[] = [];
  for (let i = 0; i < workerCount; i++) workers.push(await startWorker(config, env));
  try {
    const cpuBefore = workers.map((w) => cpuSeconds(w.pid));
    const began = Date.now();
    const result = await runPipeline(config, env);
    const wallSeconds = (Date.now() - began) / 1000;
    const workerCpuSeconds = workers.reduce((n, w, i) => n + cpuSeconds(w.pid) - cpuBefore[i], 0);
    const node = result.summary.results.find((r) => r.kind === 'table') as NodeResult | undefined;
    if (result.status !== 'succeeded' || !node || node.status !== 'succeeded') {
      console.error(`[bench] ${workerCount} worker(s): the run ended ${result.status}: ${node?.error ?? ''}`);
    }
    const names = new Map(workers.map((w, i) => [`${w.pid}@${os.hostname()}`, `worker ${i + 1} (pid ${w.pid})`]));
    const ranges = node?.workflowId ? await rangeHistory(node.workflowId) : { byWorker: {}, rangesSeconds: 0, finishSeconds: 0 };
    const content = node?.content;
    const workerPeakRssMiB = workers.map((w) => peakRssMiB(w.pid));
    const emulator = stackPids(BENCH_STACK).bigquery;
    const emulatorPeakRssMiB = peakRssMiB(emulator);
    const compared = o.compareAfter === 'none' ? false : o.compareAfter === 'parallel' ? workerCount > 1 : true;
    if (compared) resetPeakRss(emulator);
    const compare = compared ? await compareRows({
      sourceUri: env.BENCH_MYSQL_URL,
      sourceTable: o.table,
      bq: createBigQuery({ project: BENCH_STACK.BQSYNC_BIGQUERY_PROJECT, location: 'US', endpoint: `http://127.0.0.1:${BENCH_STACK.BQSYNC_BIGQUERY_PORT}` } as Config['bigquery']),
      dataset: `bench_ranges_${o.engine}`,
      destinationTable: o.table,
      key: 'id',
      columns: [
        { name: 'user_id', kind: 'plain' },
        { name: 'kind', kind: 'plain' },
        { name: 'created_at', kind: 'datetime' },
      ],
      bucketKeys: o.compareBucketRows ?? 250_000,
      pageRows: o.comparePageRows ?? 50_000,
    }) : undefined;
    return {
      workers: workerCount,
      rows: node?.rowsLoaded ?? 0,
      ranges: node?.chunks ?? 0,
      wallSeconds,
      rowsPerSecond: (node?.rowsLoaded ?? 0) / wallSeconds,
      workerCpuSeconds,
      rangesByWorker: Object.fromEntries(Object.entries(ranges.byWorker).map(([id, n]) => [names.get(id) ?? id, n])),
      rangesSeconds: ranges.rangesSeconds,
      finishSeconds: ranges.finishSeconds,
      contentVerified: content ? (content.skipped ? `not compared: ${content.skipped}` : `same, ${content.rows.toLocaleString('en-US')} rows in ${content.ranges} ranges, ${content.seconds.toFixed(0)} s`) : 'no',
      workerPeakRssMiB,
      emulatorPeakRssMiB,
      compare,
      compareEmulatorPeakRssMiB: compared ? peakRssMiB(emulator) : undefined,
      status: node?.status ?? result.status,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** One worker, then two (or `--parallel`) worker processes, `repeat` times each, alternating. */
export async function parallelRangesFigures(o: RangesOptions, repeat = 1): Promise<RangesFigure[]> {
  const figures: RangesFigure[] = [];
  try {
    for (let r = 0; r < repeat; r++) {
      for (const workers of [1, 2]) {
        const f = await oneSync(o, workers);
        console.log(formatRanges([f]));
        console.log(formatMemoryAndCompare([f]));
        figures.push(f);
      }
    }
  } finally {
    stopStack();
  }
  return figures;
}

export function formatRanges(figures: RangesFigure[]): string {
  return table(
    ['workers', 'status', 'rows', 'key ranges', 'wall s', 'rows/s', 'ranges s', 'range rows/s', 'finish s', 'worker CPU s', 'ranges by worker', 'row by row', 'verify: checksum'],
    figures.map((f) => [
      String(f.workers),
      f.status,
      f.rows.toLocaleString('en-US'),
      String(f.ranges),
      f.wallSeconds.toFixed(1),
      Math.round(f.rowsPerSecond).toLocaleString('en-US'),
      f.rangesSeconds.toFixed(1),
      f.rangesSeconds ? Math.round(f.rows / f.rangesSeconds).toLocaleString('en-US') : '-',
      f.finishSeconds.toFixed(1),
      f.workerCpuSeconds.toFixed(1),
      Object.entries(f.rangesByWorker).map(([w, n]) => `${w}: ${n}`).join(', '),
      f.compare ? describeCompare(f.compare) : 'not compared',
      f.contentVerified,
    ]),
  );
}

/** Memory of each setup, and the row-by-row comparison's own cost. */
export function formatMemoryAndCompare(figures: RangesFigure[]): string {
  return table(
    ['workers', 'worker peak RSS MiB', 'emulator peak RSS MiB (sync)', 'row by row', 'compare s', 'compare rows/s', 'buckets', 'compare peak RSS MiB', 'emulator peak RSS MiB (compare)'],
    figures.map((f) => [
      String(f.workers),
      f.workerPeakRssMiB.map((m) => m.toFixed(0)).join(', '),
      f.emulatorPeakRssMiB.toFixed(0),
      f.compare ? describeCompare(f.compare) : 'not compared',
      f.compare ? f.compare.seconds.toFixed(1) : '-',
      f.compare ? Math.round(f.compare.sourceRows / f.compare.seconds).toLocaleString('en-US') : '-',
      f.compare ? String(f.compare.buckets) : '-',
      f.compare ? f.compare.peakRssMiB.toFixed(0) : '-',
      f.compareEmulatorPeakRssMiB?.toFixed(0) ?? '-',
    ]),
  );
}

/** The ratio of one worker's time to two workers', best and median over the repeats: the whole sync, and the ranges alone. */
export function formatRatio(figures: RangesFigure[]): string {
  const median = (xs: number[]) => xs[Math.floor((xs.length - 1) / 2)];
  const ratio = (what: string, of: (f: RangesFigure) => number) => {
    const times = (n: number) => figures.filter((f) => f.workers === n).map(of).sort((a, b) => a - b);
    const [one, two] = [times(1), times(2)];
    if (!one.length || !two.length) return '';
    return `one worker ÷ two workers, ${what}: best ${(one[0] / two[0]).toFixed(2)}, median ${(median(one) / median(two)).toFixed(2)}`;
  };
  return [ratio('wall time', (f) => f.wallSeconds), ratio('the ranges alone', (f) => f.rangesSeconds)].join('\n');
}

/** A MariaDB table of `rows` narrow rows, unless the database already has it with that many. */
async function ensureMysqlTable(database: string, name: string, rows: number): Promise<void> {
  const conn = await mysql.createConnection({ uri: 'mysql://root@127.0.0.1:3306/' });
  try {
    const db = '`' + database.replace(/`/g, '``') + '`';
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${db}`);
    await conn.query(`USE ${db}`);
    await conn.query("SET time_zone = '+00:00'");
    const have = await conn.query(`SELECT COUNT(*) AS n FROM \`${name}\``).then(([r]) => Number((r as { n: number }[])[0].n)).catch(() => -1);
    if (have === rows) return;
    console.log(`[bench] creating ${database}.${name} with ${rows.toLocaleString('en-US')} rows`);
    await conn.query(`DROP TABLE IF EXISTS \`${name}\``);
    await conn.query(`CREATE TABLE \`${name}\` ${mixDdl('narrow', 'mysql')}`);
    for (let lo = 1; lo <= rows; lo += 1_000_000) {
      const hi = Math.min(rows, lo + 999_999);
      await conn.query(`INSERT INTO \`${name}\` SELECT ${mixSelect('narrow', 'mysql', 'seq')} FROM seq_${lo}_to_${hi}`);
    }
    await conn.query(`ANALYZE TABLE \`${name}\``);
  } finally {
    await conn.end();
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'bqsync_bench' },
      table: { type: 'string', default: 'bench_huge' },
      'chunk-rows': { type: 'string', default: '1000000' },
      parallel: { type: 'string', default: '2' },
      repeat: { type: 'string', default: '1' },
      'generate-rows': { type: 'string' },
      verify: { type: 'string', default: 'counts' },
      'compare-bucket-rows': { type: 'string', default: '250000' },
      'compare-page-rows': { type: 'string', default: '50000' },
      'compare-after': { type: 'string', default: 'each' },
      json: { type: 'string' },
    },
  });
  const o: RangesOptions = {
    database: values.database!,
    table: values.table!,
    engine: 'mariadb',
    chunkRows: Number(values['chunk-rows']),
    parallel: Number(values.parallel),
    verify: values.verify === 'checksum' ? 'checksum' : 'counts',
    compareBucketRows: Number(values['compare-bucket-rows']),
    comparePageRows: Number(values['compare-page-rows']),
    compareAfter: values['compare-after'] === 'parallel' ? 'parallel' : values['compare-after'] === 'none' ? 'none' : 'each',
  };
  (async () => {
    if (values['generate-rows']) {
      await ensureMysqlTable(o.database, o.table, Number(values['generate-rows']));
    }
    const figures = await parallelRangesFigures(o, Number(values.repeat));
    console.log(formatRanges(figures));
    console.log(formatMemoryAndCompare(figures));
    console.log(formatRatio(figures));
    if (values.json) fs.writeFileSync(values.json, JSON.stringify(figures, null, 2));
    const wrong = figures.filter((f) => f.status !== 'succeeded' || (f.compare && !rowsAreSame(f.compare)));
    if (wrong.length) {
      console.error(`[bench] ${wrong.length} sync(s) did not end with the source's rows exactly (see "row by row" above)`);
      process.exitCode = 1;
    }
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
