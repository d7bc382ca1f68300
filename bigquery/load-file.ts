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

// Lines are gathered into chunks of about this size before they reach gzip.
const CHUNK_BYTES = 256 * 1024;

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
  options: {
    gzip: boolean;
    signal?: AbortSignal;
    /** Called before each chunk is written, with its size before compression; the write waits for it. */
    reserve?: (bytes: number) => Promise<void>;
  },
): Promise<StagingProgress> {
  const progress: StagingProgress = { rows: 0, bytes: 0 };
  let pending = '';
  const reserve = options.reserve ?? (() => Promise.resolve());
  const emit = (done: (err?: Error | null, chunk?: Buffer) => void) => {
    const chunk = Buffer.from(pending, 'utf8');
    pending = '';
    reserve(chunk.length).then(() => {
      progress.bytes += chunk.length;
      onProgress(progress);
      done(null, chunk);
    }, done);
  };
  const encode = new Transform({
    writableObjectMode: true,
    // A couple of batches queued at most: memory stays flat however wide the rows.
    writableHighWaterMark: 2,
    transform(batch: RawValue[][], _enc, done) {
      for (const row of batch) pending += encoder.encode(row);
      progress.rows += batch.length;
      if (pending.length >= CHUNK_BYTES) emit(done);
      else done();
    },
    flush(done) {
      emit(done);
    },
  });
  const out = fs.createWriteStream(file);
  if (options.gzip) {
    // Level 1: the upload shrinks about as much as at level 6, for a fraction of the CPU.
    await pipeline(rows, encode, zlib.createGzip({ level: 1 }), out, { signal: options.signal });
  } else {
    await pipeline(rows, encode, out, { signal: options.signal });
  }
  return progress;
}
