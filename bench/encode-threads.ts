/**
 * How the encoding stage scales with encoding threads, the database left out: a table's rows
 * are read once into memory as the blocks a read hands to the threads (sources/row-text.ts),
 * then the same blocks are decoded and encoded to NDJSON on the main thread (the reference),
 * then on a pool of 1, 2, ... threads, several blocks in flight as a read keeps them. What
 * this shows is what a worker whose database is elsewhere gains per core: on a machine that
 * also runs the database, bench/extract.ts is the measure.
 *   node dist/bench/encode-threads.js [--database bqsync_bench] [--tables bench_narrow,bench_wide]
 *        [--engines MariaDB,PostgreSQL] [--threads 1,2] [--repeat 3]
 */
import { parseArgs } from 'node:util';
import { valueSymbol } from 'piscina';
import { bigQueryColumn, ColumnMapping } from '../bigquery/types';
import { blocksInFlight, closeEncodeThreads, encodePool, setEncodeThreads } from '../activities/table-sync/encode-pool';
import encodeBlock, { EncodedBlock, EncodeTask } from '../activities/table-sync/encode-thread';
import type { RowTextFormat } from '../sources/row-text';
import { DRIVERS } from '../sources/registry';
import { SERVER_URLS } from './generate';
import { seconds, table as formatTable } from './report';

const ENGINES = { MariaDB: 'mysql', PostgreSQL: 'postgres' } as const;
type Engine = keyof typeof ENGINES;

interface Blocks {
  format: RowTextFormat;
  columns: ColumnMapping[];
  blocks: Buffer[];
  bytes: number;
}

/** The table's rows as the blocks a read would hand to the threads. */
async function readBlocks(engine: Engine, database: string, table: string): Promise<Blocks> {
  const url = new URL(SERVER_URLS[ENGINES[engine]]);
  url.pathname = `/${database}`;
  const reader = await DRIVERS[ENGINES[engine]].connect(url.toString());
  try {
    const columns = (await reader.describeTable(table)).map(bigQueryColumn);
    const stream = reader.streamRowText!(table, columns.map((c) => c.source))!;
    const blocks: Buffer[] = [];
    for await (const block of stream) blocks.push(block as Buffer);
    return { format: stream.format!, columns, blocks, bytes: blocks.reduce((n, b) => n + b.length, 0) };
  } finally {
    await reader.close();
  }
}

const taskOf = (read: number, data: Blocks, block: Buffer): EncodeTask => ({
  read,
  format: data.format,
  columns: data.columns.map(({ transform: _, ...m }) => m),
  block: Buffer.from(block), // a copy of its own: the pool moves it away
});

let reads = 0;

/** Seconds to encode every block on this thread; the rows encoded. */
function onMainThread(data: Blocks): { seconds: number; rows: number } {
  const read = ++reads;
  const began = process.hrtime.bigint();
  let rows = 0;
  for (const block of data.blocks) rows += (encodeBlock(taskOf(read, data, block)) as Record<symbol, EncodedBlock>)[valueSymbol].rows;
  return { seconds: seconds(began), rows };
}

/** Seconds to encode every block on `threads` threads, blocksInFlight() at once as a read keeps them. */
async function onThreads(data: Blocks, threads: number): Promise<{ seconds: number; rows: number }> {
  setEncodeThreads(threads);
  const pool = encodePool();
  if (!pool) throw new Error('no encoding threads: run the built bench (node dist/bench/encode-threads.js)');
  // The threads started and warmed before the clock.
  await Promise.all(Array.from({ length: threads }, () => pool.run(taskOf(++reads, data, data.blocks[0]))));
  const read = ++reads;
  let next = 0;
  let rows = 0;
  const began = process.hrtime.bigint();
  const lane = async () => {
    while (next < data.blocks.length) {
      const task = taskOf(read, data, data.blocks[next++]);
      const encoded = (await pool.run(task, { transferList: [task.block.buffer as ArrayBuffer] })) as EncodedBlock;
      rows += encoded.rows;
    }
  };
  await Promise.all(Array.from({ length: blocksInFlight() }, lane));
  const took = seconds(began);
  await closeEncodeThreads();
  return { seconds: took, rows };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

export interface EncodeThreadsOptions {
  tables?: string[];
  engines?: Engine[];
  threads?: number[];
  repeat?: number;
}

/** The encoding stage's seconds on the main thread and on each thread count (medians), as a table. */
export async function encodeThreadsTable(database: string, options: EncodeThreadsOptions = {}): Promise<string> {
  const threadCounts = options.threads ?? [1, 2];
  const repeat = options.repeat ?? 3;
  const lines: string[][] = [];
  for (const table of options.tables ?? ['bench_narrow', 'bench_wide']) {
    for (const engine of options.engines ?? (Object.keys(ENGINES) as Engine[])) {
      const data = await readBlocks(engine, database, table);
      const main: number[] = [];
      const pooled = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
      let rows = 0;
      for (let round = 0; round < repeat; round++) {
        const m = onMainThread(data);
        main.push(m.seconds);
        rows = m.rows;
        for (const t of threadCounts) {
          const p = await onThreads(data, t);
          if (p.rows !== rows) throw new Error(`${t} threads encoded ${p.rows} rows, the main thread ${rows}`);
          pooled.get(t)!.push(p.seconds);
        }
      }
      const reference = median(main);
      const row = (what: string, s: number) => [engine, table, what, rows.toLocaleString('en-US'), s.toFixed(2), Math.round(rows / s).toLocaleString('en-US'), (reference / s).toFixed(2)];
      lines.push(row('main thread', reference));
      for (const t of threadCounts) lines.push(row(`${t} thread${t > 1 ? 's' : ''}`, median(pooled.get(t)!)));
      console.log(`${engine} ${table}: ${data.blocks.length} blocks, ${(data.bytes / 1e6).toFixed(0)} MB of row bytes`);
    }
  }
  return `median of ${repeat} rounds; speed-up = main thread's seconds ÷ these\n\n${formatTable(['source', 'table', 'encoded on', 'rows', 'seconds', 'rows/s', 'speed-up'], lines)}`;
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      database: { type: 'string', default: 'bqsync_bench' },
      tables: { type: 'string', default: 'bench_narrow,bench_wide' },
      engines: { type: 'string', default: Object.keys(ENGINES).join(',') },
      threads: { type: 'string', default: '1,2' },
      repeat: { type: 'string', default: '3' },
    },
  });
  encodeThreadsTable(values.database!, {
    tables: values.tables!.split(','),
    engines: values.engines!.split(',') as Engine[],
    threads: values.threads!.split(',').map(Number),
    repeat: Number(values.repeat),
  }).then(
    (text) => console.log(`\n${text}`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
