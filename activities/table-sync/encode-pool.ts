import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';

/**
 * The worker's encoding threads: a table's rows, as the server sent them, are decoded and
 * written as NDJSON there (encode-thread.ts), block by block, so that a read uses the cores
 * the worker has while its main thread reads the socket and runs gzip's stream. One pool for all of the
 * worker's table syncs, so that the threads, not the tables at once, bound the CPU it takes.
 */
let threads = 0;
/** Young generation per thread, MB (measured: 32 did best of 16, 32, 64). */
const YOUNG_GENERATION_MB = 32;
let pool: Piscina | undefined;

/** The thread's module, built beside this one (dist/); absent when the sources run unbuilt (ts-jest), then the main thread encodes. */
const THREAD_MODULE = path.join(__dirname, 'encode-thread.js');
const THREAD_MODULE_BUILT = fs.existsSync(THREAD_MODULE);

/** Encoding threads from now on: 0 encodes on the main thread. The worker sets it once, at its start. */
export function setEncodeThreads(n: number): void {
  threads = n;
}

/**
 * The default: one per core beyond the main thread's, and none on two cores or fewer. On
 * two cores the threads' work (the blocks' messages, a second garbage collector, more
 * threads than cores) cost the wide bench table 8.5 CPU s against 5.5 on the main thread
 * (bench/results.md): a worker syncing several tables at once, its cores already busy,
 * would read slower with them.
 */
export function defaultEncodeThreads(cores = os.availableParallelism()): number {
  return cores > 2 ? cores - 1 : 0;
}

/** The pool, started on first use; undefined when the main thread encodes. */
export function encodePool(): Piscina | undefined {
  if (threads === 0 || !THREAD_MODULE_BUILT) return undefined;
  // Threads start as blocks arrive and stop after a quiet minute: an idle worker keeps none.
  pool ??= new Piscina({
    filename: THREAD_MODULE,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 60_000,
    // Every value is a short-lived string: with a thread's default young generation they
    // outlive it and go to full collections (the wide bench table on one thread: 9.2 and
    // 11.6 CPU s at the default, 5.8 and 10.0 at 32 MB; bench/results.md).
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  return pool;
}

/** Blocks in flight per read: enough to keep every thread busy while the next block is read. */
export function blocksInFlight(): number {
  return 2 * threads;
}

/** Stops the threads (the worker's shutdown). */
export async function closeEncodeThreads(): Promise<void> {
  const stopping = pool;
  pool = undefined;
  await stopping?.destroy();
}
