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
    /** Called before chunks are written, with their size before compression; the write waits for it. */
    reserve?: (bytes: number) => Promise<void>;
  },
): Promise<StagingProgress> {
  const progress: StagingProgress = { rows: 0, bytes: 0 };
  const reserve = options.reserve ?? (() => Promise.resolve());
  // The encoder writes lines straight into chunks of about CHUNK_BYTES: reservation and
  // progress go by chunk, not by row.
  const emit = (stream: Transform, chunks: Buffer[], done: (err?: Error | null) => void) => {
    if (chunks.length === 0) return done();
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    reserve(bytes).then(() => {
      progress.bytes += bytes;
      onProgress(progress);
      for (const chunk of chunks) stream.push(chunk);
      done();
    }, done);
  };
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
  const out = fs.createWriteStream(file);
  if (options.gzip) {
    // Level 1: the upload shrinks about as much as at level 6, for a fraction of the CPU.
    await pipeline(rows, encode, zlib.createGzip({ level: 1 }), out, { signal: options.signal });
  } else {
    await pipeline(rows, encode, out, { signal: options.signal });
  }
  return progress;
}
