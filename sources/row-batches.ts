import { Readable } from 'node:stream';
import type { RawValue } from './logical-types';

/** Rows per batch: a stream's per-chunk machinery costs more than encoding one row. */
export const BATCH_ROWS = 512;

/**
 * The stream a source's rows leave by: rows gathered into arrays of BATCH_ROWS, with
 * backpressure handed back to the driver (`add` answers false: pause the read; `_read`
 * resumes it). A few batches are buffered at most, whatever the table's size.
 */
export class RowBatches extends Readable {
  private batch: RawValue[][] = [];

  constructor(private readonly resumeSource: () => void) {
    super({ objectMode: true, highWaterMark: 4 });
  }

  override _read(): void {
    this.resumeSource();
  }

  /** Adds a row; false when the reader is behind and the driver should pause. */
  add(row: RawValue[]): boolean {
    this.batch.push(row);
    if (this.batch.length < BATCH_ROWS) return true;
    const full = this.batch;
    this.batch = [];
    return this.push(full);
  }

  /** The last rows have arrived. */
  finish(): void {
    if (this.batch.length > 0) this.push(this.batch);
    this.batch = [];
    this.push(null);
  }
}
