import { Transform } from 'node:stream';
import type { Piscina } from 'piscina';
import { chunkEmitter, pipeToStagingFile, StagingFileOptions, StagingProgress } from '../../bigquery/load-file';
import type { ColumnMapping } from '../../bigquery/types';
import type { RowTextBlocks } from '../../sources/row-text';
import type { EncodedBlock, EncodeTask } from './encode-thread';

/** Reads so far in this process, which number each read's tasks. */
let reads = 0;

/**
 * The staging file of a read whose rows come as text blocks (sources/row-text.ts), each
 * block decoded and encoded on the pool's threads while the next ones are read. Up to
 * `inFlight` blocks are out at once; their lines are written in the blocks' order, so the
 * file is the one writeStagingFile would write, byte for byte.
 */
export async function writeStagingFileInThreads(
  blocks: RowTextBlocks,
  columns: ColumnMapping[],
  pool: Piscina,
  inFlight: number,
  file: string,
  onProgress: (p: StagingProgress) => void,
  options: StagingFileOptions,
): Promise<StagingProgress & { nulledValues: Record<string, number> }> {
  const progress: StagingProgress = { rows: 0, bytes: 0 };
  const nulledValues: Record<string, number> = {};
  const emit = chunkEmitter(progress, onProgress, options.reserve);
  const taskColumns = columns.map(({ transform: _, ...mapping }) => mapping);
  const read = ++reads;
  const pending: Promise<EncodedBlock>[] = [];
  // The oldest block's lines go on once its thread is done.
  const takeOldest = (stream: Transform, done: (err?: Error | null) => void) => {
    pending.shift()!.then((encoded) => {
      progress.rows += encoded.rows;
      for (const [column, n] of Object.entries(encoded.nulledValues)) nulledValues[column] = (nulledValues[column] ?? 0) + n;
      emit(stream, encoded.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)), done);
    }, done);
  };
  const encode = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 1,
    transform(block: Buffer, _enc, done) {
      // A source learns the format at the latest from its result's first message, before the first row.
      if (!blocks.format) return done(new Error('a block of rows came before its format'));
      const task: EncodeTask = { read, format: blocks.format, columns: taskColumns, block };
      let encoded: Promise<EncodedBlock>;
      try {
        encoded = pool.run(task, { transferList: [block.buffer as ArrayBuffer], ...(options.signal && { signal: options.signal }) });
      } catch (err) {
        return done(err as Error); // a pool that is closing
      }
      // Awaited in order below; a failure meanwhile must not count as unhandled.
      encoded.catch(() => undefined);
      pending.push(encoded);
      if (pending.length < inFlight) return done();
      takeOldest(this, done);
    },
    flush(done) {
      const next = (err?: Error | null) => {
        if (err || pending.length === 0) return done(err);
        takeOldest(this, next);
      };
      next();
    },
  });
  await pipeToStagingFile(blocks, encode, file, options);
  return { ...progress, nulledValues };
}
