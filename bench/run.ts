/**
 * The whole benchmark, one command (`npm run bench`): generates the data (skipped when it
 * is already there), measures extraction against the databases' own exports, then whole
 * runs into the emulator, and writes everything with the machine's description to
 * bench/results.md.
 *   node dist/bench/run.js [generator options, see generate.ts] [--concurrency 1,2,4,8]
 *        [--memory-tables bench_one,bench_huge] [--thousand-concurrency 4,16] [--ranges-table bench_huge]
 *        [--out bench/results.md]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { endToEndFigures, formatRuns } from './end-to-end';
import { encodeThreadsTable } from './encode-threads';
import { extractionFigures, formatExtraction } from './extract';
import { formatMemoryAndCompare, formatRanges, formatRatio, parallelRangesFigures } from './parallel-ranges';
import { generate, SERVER_URLS, shapeFromArgs } from './generate';
import { formatThousand, thousandTablesFigures } from './thousand-tables';

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    return 'unknown';
  }
}

/** A tool version pinned in scripts/lib.sh (the emulator built from source reports none). */
function pinned(name: string): string {
  const lib = fs.readFileSync(path.join(__dirname, '..', '..', 'scripts', 'lib.sh'), 'utf8');
  return new RegExp(`^${name}=(\\S+)`, 'm').exec(lib)?.[1] ?? 'unknown';
}

function machine(): string {
  const cpu = os.cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores; memory ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${os.type()} ${os.release()}`,
    `- Node ${process.version}; ${version('mariadb', ['--version'])}; ${version('psql', ['--version'])}`,
    `- BigQuery emulator ${pinned('BIGQUERY_EMULATOR_VERSION')}, Temporal CLI ${pinned('TEMPORAL_CLI_VERSION')} (${version('temporal', ['--version'])})`,
    '- The databases, the emulator, the Temporal dev server and the worker share this one machine.',
  ].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { shape, force } = shapeFromArgs(argv);
  const { values } = parseArgs({
    args: argv,
    strict: false,
    options: {
      concurrency: { type: 'string', default: '1,2,4,8' },
      'memory-tables': { type: 'string', default: 'bench_one,bench_huge' },
      'thousand-concurrency': { type: 'string', default: '4,16' },
      'ranges-table': { type: 'string', default: 'bench_huge' },
      out: { type: 'string', default: path.join(__dirname, '..', '..', 'bench', 'results.md') },
    },
  });
  const list = (v: unknown) => String(v ?? '').split(',').filter(Boolean);
  const began = Date.now();

  console.log(`[bench] generating ${shape.database} (skipped when it is already there)`);
  await generate(shape, SERVER_URLS, force);
  console.log('[bench] extraction');
  const extraction = formatExtraction(await extractionFigures(shape.database, ['bench_narrow', 'bench_wide']));
  console.log(extraction);
  console.log('[bench] the encoding stage on threads, the database left out');
  const encoding = await encodeThreadsTable(shape.database);
  console.log(encoding);
  console.log('[bench] whole runs into the emulator');
  const runs = formatRuns(await endToEndFigures(shape.database, list(values.concurrency).map(Number), list(values['memory-tables'])));
  console.log('[bench] 1,000 tables in one run');
  // The emulator slows down as it fills, so the 1,000 tables run on the stand-in data activity.
  const thousand = formatThousand(
    await thousandTablesFigures('bqsync_bench_thousand', 500, 3, list(values['thousand-concurrency']).map(Number), { runTables: 500, standInMs: 2000, floor: true }),
  );
  console.log('[bench] one large table by one worker, then by two');
  const rangesTable = String(values['ranges-table']);
  // Reading a table back from the emulator row by row takes longer than loading it: only the two-worker sync is compared.
  const rangeFigures = await parallelRangesFigures({ database: shape.database, table: rangesTable, engine: 'mariadb', chunkRows: 1_000_000, parallel: 2, verify: 'counts', compareAfter: 'parallel' });
  const ranges = `${formatRanges(rangeFigures)}\n\n${formatMemoryAndCompare(rangeFigures)}\n\n${formatRatio(rangeFigures)}`;

  const report = [
    '# Benchmark results',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\` (${((Date.now() - began) / 60000).toFixed(0)} minutes), on:`,
    '',
    machine(),
    '',
    `Data (\`bench/generate.ts\`): ${shape.tables} nightly tables per source with ${shape.rows.toLocaleString('en-US')} rows in all ` +
      `(table i holds rows ∝ 1/i; narrow, medium and wide column mixes), bench_narrow and bench_wide with ` +
      `${shape.extractRows.toLocaleString('en-US')} rows each, bench_one (1 row) and bench_huge (${shape.hugeRows.toLocaleString('en-US')} rows), ` +
      'the same in MariaDB and PostgreSQL.',
    '',
    '## Extraction, next to the database\'s own export of the same table',
    '',
    'Ratio = the export\'s time ÷ bqsync\'s time (1.00 would be as fast as the database writing its own file). ' +
      'bqsync\'s figure is its activity\'s path: stream from one snapshot, encode NDJSON, write the staging file. ' +
      '"database\'s own client" is its C command-line client writing the server\'s text as it arrives (`bench/client-floor.ts`): ' +
      'what any client reaches here.',
    '',
    extraction,
    '',
    '## The encoding stage on threads, the database left out',
    '',
    'The same two tables read once into memory as the blocks a read hands to the encoding threads, then decoded and ' +
      'encoded to NDJSON on the main thread, on one thread and on two (`bench/encode-threads.ts`): what a worker whose ' +
      'database is elsewhere gains per core. On a machine that also runs the database, the extraction above is the measure.',
    '',
    encoding,
    '',
    '## Whole runs into the BigQuery emulator',
    '',
    'Each run on a fresh Temporal dev server and emulator, with a fresh worker process. ' +
      '"data-only" is the time the same activity work would take if Temporal added nothing (the tables\' activity times ' +
      'replayed in the run\'s own start order under the same limits); "overhead" is the wall time minus that. ' +
      '"per-table overhead" is a table\'s child workflow time minus its activity time.',
    '',
    runs,
    '',
    '## 1,000 tables in one run',
    '',
    '500 tables of 3 rows per source (`bqsync_bench_thousand`), each concurrency on a fresh stack and worker ' +
      '(`bench/stand-in-worker.ts`: the real workflows and activities, except a data activity that waits 2 s instead of ' +
      'loading, since the emulator slows down as it fills), so that the figures are orchestration, not BigQuery. ' +
      'Overhead as above. "gap in starts" is the time from the last table ' +
      'started before a continue-as-new to the first after it; "idle slot with a table waiting" sums the time a source ' +
      'ran fewer tables than its limit while one of its tables had not started. Each run is preceded by the same tables on ' +
      'Temporal alone (`bench/temporal-floor.ts`: a child workflow and one waiting activity per table, same limits): ' +
      'the overhead no orchestration on this machine goes below.',
    '',
    thousand,
    '',
    `## One large table in key ranges, by one worker and by two (MariaDB ${rangesTable})`,
    '',
    '`bench/parallel-ranges.ts`: `chunkRows` 1,000,000, `parallelRanges` 2, source concurrency 2; one worker process, then two, ' +
      'each on a fresh stack. "ranges s" runs from the first range\'s start to the last range\'s end (reads and their loads); ' +
      '"finish s" is the staging count, the swap and the destination\'s count. The destination is then compared with the source row by row.',
    '',
    ranges,
    '',
  ].join('\n');
  fs.writeFileSync(values.out as string, report);
  console.log(`[bench] written to ${values.out}`);
}

main().catch((err) => {
  console.error(`[bench] ${err instanceof Error ? err.stack ?? err.message : err}`);
  process.exit(1);
});
