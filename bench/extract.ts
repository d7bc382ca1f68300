/**
 * Extraction rate of a narrow and a wide table from each source, next to the database's
 * own fastest export of the same table in the same run:
 *   - MariaDB: SELECT … INTO OUTFILE (what `mysqldump --tab` runs), written by the server;
 *   - PostgreSQL: COPY … TO a file, written by the server.
 * bqsync's path is the one its activity runs: describe, map, stream, encode NDJSON, write
 * the staging file (plain, and gzip level 1 as for real BigQuery).
 *
 * A third reference, the client floor (bench/client-floor.ts): the database's own C client
 * writing the server's text to a file as it arrives, and through gzip level 1. What it reaches
 * against the export is the most any client reaches here.
 *
 * Each round measures the export, the client floor plain and gzip, then bqsync plain, then
 * bqsync gzip, back to back; the
 * figures are the best and the median of `--repeat` rounds. CPU seconds (the median of the
 * rounds) are read for this process (all threads, and its main thread alone) and for the
 * server's side of this process's connection (a MariaDB connection's thread, a PostgreSQL
 * backend; for MariaDB also the whole mysqld, which other clients share). `--profile DIR`
 * runs each bqsync part once more, after the timed rounds and not counted, under the V8
 * profiler, writes DIR/<engine>-<table>-<plain|gzip>.cpuprofile and prints its top entries.
 *   node dist/bench/extract.js [--database bqsync_bench] [--tables bench_narrow,bench_wide]
 *        [--engines MariaDB,PostgreSQL] [--repeat 3] [--profile DIR] [--json FILE] [--encode-threads N]
 * The servers are those of BENCH_MYSQL_URL / BENCH_POSTGRES_URL (default ports otherwise).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { Client } from 'pg';
import type { SourceConnection } from '../sources/driver';
import { DRIVERS } from '../sources/registry';
import { bigQueryColumn, ColumnMapping } from '../bigquery/types';
import { closeEncodeThreads, defaultEncodeThreads, encodePool, setEncodeThreads } from '../activities/table-sync/encode-pool';
import { stageRows } from '../activities/table-sync/read-rows';
import { clientToFile } from './client-floor';
import { profiled, topEntries } from './cpu-profile';
import { SERVER_URLS } from './generate';
import { peakRssMiB, seconds, table as formatTable } from './report';
import { CatalogQuery, mariadbServerCpu, postgresServerCpu, selfCpuSeconds, ServerCpu } from './server-cpu';

const ENGINES = ['MariaDB', 'PostgreSQL'] as const;
type Engine = (typeof ENGINES)[number];

/** The client floor's rows in the figures (its CPU is another process's: not counted here). */
const CLIENT_PLAIN = "database's own client to file";
const CLIENT_GZIP = "database's own client | gzip level 1";

/** The targets: bqsync's time against the export's, plain and with gzip. */
export const TARGET_RATIO = { plain: 0.8, gzip: 0.6 };

export interface ExtractFigure {
  engine: Engine;
  table: string;
  what: string;
  rows: number;
  /** The best round's seconds. */
  seconds: number;
  medianSeconds: number;
  /** Every round's seconds, in order. */
  rounds: number[];
  bytes: number;
  /** Reference seconds ÷ these seconds, best against best: 1.0 is as fast as the database's own export. */
  ratio: number;
  /** The same, median against median. */
  medianRatio: number;
  /** CPU seconds of this process (every thread), the median of the rounds. */
  cpuSeconds: number;
  /** Of its main thread alone (the one that reads the socket). */
  mainThreadCpuSeconds: number;
  /** Of the server's side of this process's connection: a MariaDB connection's thread, a PostgreSQL backend. */
  serverCpuSeconds: number;
  /** MariaDB: of the whole mysqld (every client's work, background threads included). */
  wholeServerCpuSeconds?: number;
}

/** One timed part: its time, and the CPU each side used meanwhile. */
interface Measured {
  seconds: number;
  rows: number;
  bytes: number;
  cpu: number;
  mainThreadCpu: number;
  serverCpu: number;
  wholeServerCpu?: number;
}

/** Times `work`, reading the CPU of this process and of the server's side (started just before). */
async function measure(startServerCpu: () => Promise<ServerCpu>, work: () => Promise<{ rows: number; bytes: number }>): Promise<Measured> {
  const server = await startServerCpu();
  const self = selfCpuSeconds();
  const began = process.hrtime.bigint();
  const done = await work();
  const elapsed = seconds(began);
  const selfAfter = selfCpuSeconds();
  const serverUsed = server.elapsed();
  return {
    seconds: elapsed,
    ...done,
    cpu: selfAfter.process - self.process,
    mainThreadCpu: selfAfter.mainThread - self.mainThread,
    serverCpu: serverUsed.connections,
    wholeServerCpu: serverUsed.wholeServer,
  };
}

/**
 * bqsync's extraction of one table into a staging file (the table described beforehand, as
 * the activity does): on the encoding threads where the source hands over row text, as
 * readRowsToFile does, unless `mainThread`.
 */
async function bqsyncExtract(reader: SourceConnection, table: string, columns: ColumnMapping[], gzip: boolean, dir: string, mainThread = false) {
  const file = path.join(dir, gzip ? 'rows.json.gz' : 'rows.json');
  try {
    const p = await stageRows(reader, table, columns, undefined, file, () => undefined, { gzip }, mainThread);
    return { rows: p.rows, bytes: p.bytes };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** A directory both this process and the database server (same host) can write and read. */
function sharedDirectory(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-export-'));
  fs.chmodSync(dir, 0o777);
  return dir;
}

/** The server's export of the table into a file it writes itself; its connection is open before the clock starts. */
async function exportTable(engine: Engine, url: string, table: string, startServerCpu: () => Promise<ServerCpu>): Promise<Measured> {
  const dir = sharedDirectory();
  const file = path.join(dir, `${table}.tsv`);
  try {
    if (engine === 'MariaDB') {
      const conn = await mysql.createConnection({ uri: url });
      try {
        // The file name is this process's own temp path; INTO OUTFILE takes no placeholder.
        return await measure(startServerCpu, async () => {
          await conn.query(`SELECT * INTO OUTFILE ${conn.escape(file)} FROM \`${table}\``);
          return { rows: 0, bytes: fs.statSync(file).size };
        });
      } finally {
        await conn.end();
      }
    }
    const pg = new Client({ connectionString: url });
    await pg.connect();
    try {
      return await measure(startServerCpu, async () => {
        await pg.query(`COPY "${table}" TO ${pg.escapeLiteral(file)}`);
        return { rows: 0, bytes: fs.statSync(file).size };
      });
    } finally {
      await pg.end();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function figureOf(engine: Engine, table: string, what: string, runs: Measured[], reference: Measured[]): ExtractFigure {
  const secs = runs.map((r) => r.seconds);
  const best = Math.min(...secs);
  const med = median(secs);
  const refSecs = reference.map((r) => r.seconds);
  const whole = runs.map((r) => r.wholeServerCpu).filter((v): v is number => v !== undefined);
  return {
    engine,
    table,
    what,
    rows: runs[0].rows,
    seconds: best,
    medianSeconds: med,
    rounds: secs,
    bytes: runs[0].bytes,
    ratio: Math.min(...refSecs) / best,
    medianRatio: median(refSecs) / med,
    cpuSeconds: median(runs.map((r) => r.cpu)),
    mainThreadCpuSeconds: median(runs.map((r) => r.mainThreadCpu)),
    serverCpuSeconds: median(runs.map((r) => r.serverCpu)),
    ...(whole.length > 0 && { wholeServerCpuSeconds: median(whole) }),
  };
}

/** A server's URL with the database in its path. */
function databaseUrl(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A connection that asks the server which of its threads or backends serve this process. */
async function monitorOf(engine: Engine, url: string): Promise<{ startServerCpu: () => Promise<ServerCpu>; close: () => Promise<void> }> {
  if (engine === 'MariaDB') {
    const conn = await mysql.createConnection({ uri: url });
    const query: CatalogQuery = async (sql) => (await conn.query(sql))[0] as Record<string, unknown>[];
    return { startServerCpu: () => mariadbServerCpu(query), close: () => conn.end() };
  }
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const query: CatalogQuery = async (sql) => (await pg.query(sql)).rows;
  return { startServerCpu: () => postgresServerCpu(query), close: () => pg.end() };
}

export interface ExtractOptions {
  engines?: readonly Engine[];
  /** Rounds of export, plain and gzip, back to back. */
  repeat?: number;
  /** Where the V8 CPU profiles of one extra, uncounted run of each bqsync part go. */
  profileDir?: string;
  /** Told each profile's top entries. */
  onProfile?: (name: string, top: string[]) => void;
}

export async function extractionFigures(database: string, tables: string[], options: ExtractOptions = {}): Promise<ExtractFigure[]> {
  const engines = options.engines ?? ENGINES;
  const repeat = options.repeat ?? 3;
  const urls: Record<Engine, string> = { MariaDB: databaseUrl(SERVER_URLS.mysql, database), PostgreSQL: databaseUrl(SERVER_URLS.postgres, database) };
  const figures: ExtractFigure[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-bench-'));
  try {
    for (const table of tables) {
      for (const engine of engines) {
        const monitor = await monitorOf(engine, urls[engine]);
        const reader = engine === 'MariaDB' ? await DRIVERS.mysql.connect(urls[engine]) : await DRIVERS.postgres.connect(urls[engine]);
        const columns = (await reader.describeTable(table)).map(bigQueryColumn);
        const rounds = { reference: [] as Measured[], clientPlain: [] as Measured[], clientGzip: [] as Measured[], plain: [] as Measured[], gzip: [] as Measured[], mainPlain: [] as Measured[], mainGzip: [] as Measured[] };
        // The main thread's own encoding beside the threads', in the same rounds, when there are threads.
        const both = encodePool() !== undefined && reader.streamRowText !== undefined;
        try {
          for (let round = 0; round < repeat; round++) {
            rounds.reference.push(await exportTable(engine, urls[engine], table, monitor.startServerCpu));
            rounds.clientPlain.push(await measure(monitor.startServerCpu, () => clientToFile(engine, urls[engine], table, false, dir)));
            rounds.clientGzip.push(await measure(monitor.startServerCpu, () => clientToFile(engine, urls[engine], table, true, dir)));
            rounds.plain.push(await measure(monitor.startServerCpu, () => bqsyncExtract(reader, table, columns, false, dir)));
            rounds.gzip.push(await measure(monitor.startServerCpu, () => bqsyncExtract(reader, table, columns, true, dir)));
            if (both) {
              rounds.mainPlain.push(await measure(monitor.startServerCpu, () => bqsyncExtract(reader, table, columns, false, dir, true)));
              rounds.mainGzip.push(await measure(monitor.startServerCpu, () => bqsyncExtract(reader, table, columns, true, dir, true)));
            }
          }
          if (options.profileDir) {
            fs.mkdirSync(options.profileDir, { recursive: true });
            for (const gzip of [false, true]) {
              const name = `${engine}-${table}-${gzip ? 'gzip' : 'plain'}`;
              const { profile } = await profiled(path.join(options.profileDir, `${name}.cpuprofile`), () => bqsyncExtract(reader, table, columns, gzip, dir));
              options.onProfile?.(name, topEntries(profile));
            }
          }
        } finally {
          await reader.close();
          await monitor.close();
        }
        const reference = figureOf(engine, table, engine === 'MariaDB' ? 'SELECT INTO OUTFILE' : 'COPY TO file', rounds.reference, rounds.reference);
        figures.push(
          { ...reference, rows: rounds.plain[0].rows },
          { ...figureOf(engine, table, CLIENT_PLAIN, rounds.clientPlain, rounds.reference), rows: rounds.plain[0].rows },
          { ...figureOf(engine, table, CLIENT_GZIP, rounds.clientGzip, rounds.reference), rows: rounds.plain[0].rows },
          figureOf(engine, table, 'bqsync NDJSON', rounds.plain, rounds.reference),
          figureOf(engine, table, 'bqsync NDJSON gzip', rounds.gzip, rounds.reference),
        );
        if (both) {
          figures.push(
            figureOf(engine, table, 'bqsync NDJSON, main thread', rounds.mainPlain, rounds.reference),
            figureOf(engine, table, 'bqsync NDJSON gzip, main thread', rounds.mainGzip, rounds.reference),
          );
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

export function formatExtraction(figures: ExtractFigure[]): string {
  return formatTable(
    ['source', 'table', 'what', 'rows', 'seconds', 'median s', 'rows/s', 'MB/s', 'ratio to export', 'median ratio', 'CPU s', 'main thread CPU s', 'server CPU s'],
    figures.map((f) => {
      // The client floor runs in processes of its own: this process's CPU and its connections' say nothing of it.
      const own = f.what !== CLIENT_PLAIN && f.what !== CLIENT_GZIP;
      return [
      f.engine,
      f.table,
      f.what,
      f.rows.toLocaleString('en-US'),
      f.seconds.toFixed(2),
      f.medianSeconds.toFixed(2),
      Math.round(f.rows / f.seconds).toLocaleString('en-US'),
      (f.bytes / 1e6 / f.seconds).toFixed(1),
      f.ratio.toFixed(2),
      f.medianRatio.toFixed(2),
      own ? f.cpuSeconds.toFixed(2) : '-',
      own ? f.mainThreadCpuSeconds.toFixed(2) : '-',
      (own ? f.serverCpuSeconds.toFixed(2) : '-') + (f.wholeServerCpuSeconds === undefined ? '' : ` (mysqld ${f.wholeServerCpuSeconds.toFixed(2)})`),
    ];
    }),
  );
}

/** One line per shape: the ratios plain and gzip (best / median) against the targets. */
export function formatSummary(figures: ExtractFigure[]): string {
  const lines: string[] = [];
  for (const f of figures.filter((x) => x.what === 'bqsync NDJSON')) {
    const of = (what: string) => figures.find((x) => x.engine === f.engine && x.table === f.table && x.what === what)!;
    const gzip = of('bqsync NDJSON gzip');
    const verdict = (ratio: number, target: number) => (ratio >= target ? 'met' : 'not met');
    const floor = (what: string) => (of(what) ? `; the database's own client ${of(what).ratio.toFixed(2)}` : '');
    lines.push(
      `${f.engine} ${f.table}: plain ${f.ratio.toFixed(2)} best / ${f.medianRatio.toFixed(2)} median (target ${TARGET_RATIO.plain}: ${verdict(f.ratio, TARGET_RATIO.plain)}${floor(CLIENT_PLAIN)}), ` +
        `gzip ${gzip.ratio.toFixed(2)} / ${gzip.medianRatio.toFixed(2)} (target ${TARGET_RATIO.gzip}: ${verdict(gzip.ratio, TARGET_RATIO.gzip)}${floor(CLIENT_GZIP)})`,
    );
  }
  return lines.join('\n');
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'bqsync_bench' },
      tables: { type: 'string', default: 'bench_narrow,bench_wide' },
      json: { type: 'string' },
      engines: { type: 'string', default: ENGINES.join(',') },
      repeat: { type: 'string', default: '3' },
      profile: { type: 'string' },
      'encode-threads': { type: 'string', default: String(defaultEncodeThreads()) },
    },
  });
  const threads = Number(values['encode-threads']);
  if (!Number.isInteger(threads) || threads < 0) {
    console.error(`--encode-threads must be a whole number from 0, not "${values['encode-threads']}"`);
    process.exit(2);
  }
  setEncodeThreads(threads);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) {
    console.error(`--repeat must be a whole number from 1, not "${values.repeat}"`);
    process.exit(2);
  }
  const engines = values.engines!.split(',') as Engine[];
  const unknown = engines.filter((e) => !ENGINES.includes(e));
  if (unknown.length > 0) {
    console.error(`--engines: unknown ${unknown.join(', ')} (known: ${ENGINES.join(', ')})`);
    process.exit(2);
  }
  extractionFigures(values.database!, values.tables!.split(','), {
    engines,
    repeat,
    profileDir: values.profile,
    onProfile: (name, top) => console.log(`\nCPU profile ${name} (main thread, self time):\n${top.join('\n')}`),
  }).then(
    (figures) => {
      console.log(`\n${repeat} round(s) of export, plain and gzip, back to back; seconds: best, median\n`);
      console.log(formatExtraction(figures));
      console.log(`\n${formatSummary(figures)}`);
      console.log(`\npeak RSS of this process: ${peakRssMiB().toFixed(0)} MiB`);
      if (values.json) fs.writeFileSync(values.json, JSON.stringify(figures, null, 2));
      return closeEncodeThreads();
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
