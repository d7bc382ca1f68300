/**
 * One large table read in key ranges by one worker, then by two worker processes, in the
 * same run and on the same fresh stack each time: wall time, rows/s, the ratio, the CPU the
 * workers used, and which worker took how many ranges. After each sync, outside its time,
 * the destination is compared with the source row by row (every value of every row; a
 * MariaDB table of the narrow mix). `--verify checksum` has the sync compare the content
 * itself too, which on the emulator takes far longer than the load (README "Verifying content").
 *   node dist/bench/parallel-ranges.js [--database bqsync_bench] [--table bench_huge]
 *        [--chunk-rows 1000000] [--parallel 2] [--repeat 1] [--verify counts|checksum]
 *        [--generate-rows N (creates --table with N narrow rows when it is missing)]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { createConnection } from 'mysql2';
import { stringify } from 'yaml';
import type { NodeResult } from '../common/payloads';
import { createBigQuery } from '../bigquery/client';
import type { Config } from '../config/schema';
import { mixDdl, mixSelect } from './column-mixes';
import { table } from './report';
import { BENCH_STACK, BenchSource, BenchWorker, freshStack, runPipeline, sourceEnv, startWorker, stopStack, TEMPORAL_ADDRESS } from './stack';

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
  /** The row-by-row comparison after the sync: rows compared, or what differed. */
  rowByRow: string;
  status: string;
}

export interface RangesOptions {
  database: string;
  table: string;
  engine: BenchSource;
  chunkRows: number;
  parallel: number;
  verify: 'counts' | 'checksum';
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
    const rowByRow = await compareRowByRow(o);
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
      rowByRow,
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
      f.rowByRow,
      f.contentVerified,
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

/**
 * The destination against the source, every value of every row: BigQuery's rows (read by
 * pages, no query) by key, then the source's streamed and checked one by one; a key
 * missing, doubled or with other values is counted. Narrow mix: id, user_id, kind, created_at.
 */
async function compareRowByRow(o: RangesOptions): Promise<string> {
  const bq = createBigQuery({ project: BENCH_STACK.BQSYNC_BIGQUERY_PROJECT, location: 'US', endpoint: `http://127.0.0.1:${BENCH_STACK.BQSYNC_BIGQUERY_PORT}` } as Config['bigquery']);
  const text = (v: unknown) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' && 'value' in v ? String((v as { value: unknown }).value) : String(v));
  // BigQuery writes a DATETIME without trailing zeros in its fraction (.1), MariaDB to six digits (.100000).
  const datetime = (v: unknown) => text(v).replace('T', ' ').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  const line = (r: Record<string, unknown>) => [text(r.user_id), text(r.kind), datetime(r.created_at)].join('|');
  const destination = new Map<string, string>();
  let doubled = 0;
  const [rows] = await bq.dataset(`bench_ranges_${o.engine}`).table(o.table).getRows({ autoPaginate: true, maxResults: 100_000 });
  for (const r of rows as Record<string, unknown>[]) {
    const id = text(r.id);
    if (destination.has(id)) doubled++;
    destination.set(id, line(r));
  }
  const conn = createConnection({ uri: `mysql://root@127.0.0.1:3306/${o.database}`, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  let compared = 0;
  let missing = 0;
  let differing = 0;
  try {
    const stream = conn.query(`SELECT id, user_id, kind, created_at FROM \`${o.table}\``).stream();
    for await (const r of stream as AsyncIterable<Record<string, unknown>>) {
      const id = text(r.id);
      const there = destination.get(id);
      if (there === undefined) missing++;
      else if (there !== line(r)) differing++;
      destination.delete(id);
      compared++;
    }
  } finally {
    conn.end();
  }
  const extra = destination.size;
  if (!missing && !differing && !extra && !doubled) return `same, ${compared.toLocaleString('en-US')} rows`;
  return `DIFFERENT: ${missing} missing, ${extra} extra, ${doubled} doubled, ${differing} with other values`;
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
  };
  (async () => {
    if (values['generate-rows']) {
      await ensureMysqlTable(o.database, o.table, Number(values['generate-rows']));
    }
    const figures = await parallelRangesFigures(o, Number(values.repeat));
    console.log(formatRanges(figures));
    console.log(formatRatio(figures));
    if (values.json) fs.writeFileSync(values.json, JSON.stringify(figures, null, 2));
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
