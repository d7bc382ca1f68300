import type { KeyRange } from '../../common/payloads';

/** No more ranges than this, however wrong the estimate. */
const MAX_RANGES = 10_000;

/**
 * Splits a table of `blocks` physical blocks into ranges of about `chunkRows` rows each,
 * assuming the rows spread evenly over the blocks (dead space makes ranges uneven, not
 * wrong). The ranges cover every block number from 0 on: the last has no end, so blocks
 * the table grows by before the shared snapshot is taken are read as well.
 */
export function planBlockRanges(blocks: number, estimatedRows: number, chunkRows: number): KeyRange[] {
  const pieces = Math.min(MAX_RANGES, Math.max(1, Math.ceil(estimatedRows / chunkRows)), Math.max(1, blocks));
  const ranges: KeyRange[] = [];
  // Range i starts at block floor(i * blocks / pieces): widths differ by one block at most.
  const start = (i: number) => String(Math.floor((i * blocks) / pieces));
  for (let i = 0; i < pieces - 1; i++) ranges.push({ from: start(i), below: start(i + 1) });
  ranges.push({ from: start(pieces - 1) });
  return ranges;
}
