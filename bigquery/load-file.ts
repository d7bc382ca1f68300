import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import type { RawValue } from '../sources/logical-types';
import { RowEncoder } from './row-encoder';

export interface StagingProgress {
  rows: number;
  bytes: number;
}

export interface StagingFileOptions {
  gzip: boolean;
  signal?: AbortSignal;
  /** Called before chunks are written, with their size before compression; the write waits for it. */
  reserve?: (bytes: number) => Promise<void>;
}

/**
 * Streams rows into a NEWLINE_DELIMITED_JSON file, gzip-compressed unless told otherwise. Backpressure reaches
 * the database read, so memory holds a few chunks whatever the table's size.
 */
export async function writeStagingFile(
  /** Batches of rows (arrays of RawValue[]), as a source's streamRows gives them. */
  rows: Readable,
  encoder: RowEncoder,
  file: string,
  onProgress: (p: StagingProgress) => void,
  options: StagingFileOptions,
): Promise<StagingProgress> {
  const progress: StagingProgress = { rows: 0, bytes: 0 };
  // The encoder writes lines straight into chunks of about CHUNK_BYTES: reservation and
  // progress go by chunk, not by row.
  const emit = chunkEmitter(progress, onProgress, options.reserve);
  const encode = new Transform({
    writableObjectMode: true,
    // A couple of batches queued at most: memory stays flat however wide the rows.
    writableHighWaterMark: 2,
    transform(batch: RawValue[][], _enc, done) {
      encoder.writeRows(batch);
      progress.rows += batch.length;
      emit(this, encoder.takeChunks(), done);
    },
    flush(done) {
      emit(this, encoder.takeRest(), done);
    },
  });
  await pipeToStagingFile(rows, encode, file, options);
  return progress;
}

/**
 * What an encoding stage calls with the chunks of whole lines it has made: they are reserved
 * on the staging budget, counted as progress, then pushed on; `done` once they are.
 */
export function chunkEmitter(progress: StagingProgress, onProgress: (p: StagingProgress) => void, reserve?: (bytes: number) => Promise<void>) {
  return (stream: Transform, chunks: Buffer[], done: (err?: Error | null) => void): void => {
    if (chunks.length === 0) return done();
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    (reserve ? reserve(bytes) : Promise.resolve()).then(() => {
      progress.bytes += bytes;
      onProgress(progress);
      for (const chunk of chunks) stream.push(chunk);
      done();
    }, done);
  };
}

/**
 * zlib's output buffer: each one it fills is a round trip to the thread pool. At its
 * default of 16 KiB a wide table's gzip staging took 17 to 18% longer (bench/results.md).
 */
const GZIP_CHUNK_BYTES = 256 * 1024;

/** source → encoding stage (NDJSON bytes out) → gzip level 1 when asked → the file. */
export async function pipeToStagingFile(source: Readable, encode: Transform, file: string, options: StagingFileOptions): Promise<void> {
  const out = fs.createWriteStream(file);
  if (options.gzip) {
    // Level 1: the upload shrinks about as much as at level 6, for a fraction of the CPU.
    await pipeline(source, encode, zlib.createGzip({ level: 1, chunkSize: GZIP_CHUNK_BYTES }), out, { signal: options.signal });
  } else {
    await pipeline(source, encode, out, { signal: options.signal });
  }
}
