/** A key range [from, below); no `below` means "to the end", so rows added meanwhile are read too. */
export interface KeyChunk {
  from: string;
  below?: string;
}

/** No more ranges than this, however sparse the keys or wrong the estimate. */
export const MAX_CHUNKS = 10_000;

/**
 * Splits an integer key's span into ranges of about `chunkRows` rows each, assuming the
 * rows spread evenly over the span (true enough for auto-increment keys; a skewed table
 * gets uneven ranges, not wrong ones). `resumeFrom` starts after ranges already loaded.
 */
export function planKeyChunks(min: string, max: string, estimatedRows: number, chunkRows: number, resumeFrom?: string): KeyChunk[] {
  const lo = BigInt(min);
  const hi = BigInt(max);
  const span = hi - lo + 1n;
  const pieces = BigInt(Math.min(MAX_CHUNKS, Math.max(1, Math.ceil(estimatedRows / chunkRows))));
  const width = span / pieces + (span % pieces === 0n ? 0n : 1n);
  const chunks: KeyChunk[] = [];
  let from = resumeFrom !== undefined ? BigInt(resumeFrom) : lo;
  while (from + width <= hi) {
    chunks.push({ from: from.toString(), below: (from + width).toString() });
    from += width;
  }
  chunks.push({ from: from.toString() });
  return chunks;
}
