/**
 * One large table read in key ranges by one worker, then by two worker processes, in the
 * same run and on the same fresh stack each time: wall time, rows/s, the ratio, the CPU the
 * workers used, and which worker took how many ranges. Each sync ends with the destination's
 * count and its content compared with the source (`verify: checksum`, per key range).
 *   node dist/bench/parallel-ranges.js [--database bqsync_bench] [--table bench_huge]
 *        [--engine mariadb|postgres] [--chunk-rows 1000000] [--parallel 2] [--repeat 1]
 *        [--generate-rows N (creates --table with N narrow rows when it is missing)]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { stringify } from 'yaml';
import type { NodeResult } from '../common/payloads';
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
  contentVerified: string;
  status: string;
}

export interface RangesOptions {
  database: string;
  table: string;
  engine: BenchSource;
  chunkRows: number;
  parallel: number;
}

function writeConfig(o: RangesOptions): string {
  const source = {
    type: o.engine === 'mariadb' ? 'mysql' : 'postgres',
    url: o.engine === 'mariadb' ? '${BENCH_MYSQL_URL}' : '${BENCH_POSTGRES_URL}',
    dataset: `bench_ranges_${o.engine}`,
    concurrency: o.parallel,
    tables: [{ name: o.table, chunkRows: o.chunkRows, parallelRanges: o.parallel, verify: 'checksum' }],
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

/** How many of the table's key range activities each worker completed, from the table sync's history. */
async function rangesByWorker(tableWorkflowId: string): Promise<Record<string, number>> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  try {
    const history = await new Client({ connection }).workflow.getHandle(tableWorkflowId).fetchHistory();
    const ranges = new Set<string>();
    const startedBy = new Map<string, string>();
    const counts: Record<string, number> = {};
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'syncRange') ranges.add(String(e.eventId));
      const st = e.activityTaskStartedEventAttributes;
      if (st && ranges.has(String(st.scheduledEventId))) startedBy.set(String(st.scheduledEventId), st.identity ?? '?');
      const done = e.activityTaskCompletedEventAttributes;
      if (done && startedBy.has(String(done.scheduledEventId))) {
        const who = startedBy.get(String(done.scheduledEventId))!;
        counts[who] = (counts[who] ?? 0) + 1;
      }
    }
    return counts;
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
    const byIdentity = node?.workflowId ? await rangesByWorker(node.workflowId) : {};
    const content = node?.content;
    return {
      workers: workerCount,
      rows: node?.rowsLoaded ?? 0,
      ranges: node?.chunks ?? 0,
      wallSeconds,
      rowsPerSecond: (node?.rowsLoaded ?? 0) / wallSeconds,
      workerCpuSeconds,
      rangesByWorker: Object.fromEntries(Object.entries(byIdentity).map(([id, n]) => [names.get(id) ?? id, n])),
      contentVerified: content ? (content.skipped ? `not compared: ${content.skipped}` : `same, ${content.rows.toLocaleString('en-US')} rows in ${content.ranges} ranges, ${content.seconds.toFixed(0)} s`) : 'no',
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
    ['workers', 'status', 'rows', 'key ranges', 'wall s', 'rows/s', 'worker CPU s', 'ranges by worker', 'content'],
    figures.map((f) => [
      String(f.workers),
      f.status,
      f.rows.toLocaleString('en-US'),
      String(f.ranges),
      f.wallSeconds.toFixed(1),
      Math.round(f.rowsPerSecond).toLocaleString('en-US'),
      f.workerCpuSeconds.toFixed(1),
      Object.entries(f.rangesByWorker).map(([w, n]) => `${w}: ${n}`).join(', '),
      f.contentVerified,
    ]),
  );
}

/** The ratio of one worker's wall time to two workers', best and median over the repeats. */
export function formatRatio(figures: RangesFigure[]): string {
  const walls = (n: number) => figures.filter((f) => f.workers === n).map((f) => f.wallSeconds).sort((a, b) => a - b);
  const median = (xs: number[]) => xs[Math.floor((xs.length - 1) / 2)];
  const one = walls(1);
  const two = walls(2);
  if (!one.length || !two.length) return '';
  return `one worker ÷ two workers, wall time: best ${(one[0] / two[0]).toFixed(2)}, median ${(median(one) / median(two)).toFixed(2)}`;
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
      engine: { type: 'string', default: 'mariadb' },
      'chunk-rows': { type: 'string', default: '1000000' },
      parallel: { type: 'string', default: '2' },
      repeat: { type: 'string', default: '1' },
      'generate-rows': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const o: RangesOptions = {
    database: values.database!,
    table: values.table!,
    engine: values.engine as BenchSource,
    chunkRows: Number(values['chunk-rows']),
    parallel: Number(values.parallel),
  };
  (async () => {
    if (values['generate-rows']) {
      if (o.engine !== 'mariadb') throw new Error('--generate-rows makes a MariaDB table only; bench/generate.ts makes both');
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
