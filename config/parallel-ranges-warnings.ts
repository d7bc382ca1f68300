import type { Config } from './schema';

/**
 * Tables that ask for more ranges at once than their source's `concurrency` allows. Not an
 * error: a table sync holds at most the source's concurrency in permits, so it reads fewer
 * ranges at once than asked (and a PostgreSQL table without an integer key, which needs one
 * permit for the session holding the shared snapshot, is read in one piece at concurrency 1).
 */
export function parallelRangesWarnings(config: Config): string[] {
  const warnings: string[] = [];
  for (const [name, source] of Object.entries(config.sources)) {
    const asked: { what: string; ranges: number }[] = [];
    if (source.defaults?.parallelRanges) asked.push({ what: `defaults of source ${name}`, ranges: source.defaults.parallelRanges });
    for (const entry of source.tables ?? []) {
      if (typeof entry !== 'string' && entry.parallelRanges) asked.push({ what: `table ${name}.${entry.name}`, ranges: entry.parallelRanges });
    }
    for (const { what, ranges } of asked) {
      if (ranges <= source.concurrency) continue;
      // Block ranges (sources that share a snapshot between sessions) need a permit for the snapshot's holder.
      const blocks = source.concurrency < 2 ? '; a table without an integer key, which block ranges would split, is then read in one piece' : '';
      warnings.push(
        `${what}: parallelRanges ${ranges} is more than the source's concurrency (${source.concurrency}), so at most ${source.concurrency === 1 ? '1 range is' : `${source.concurrency} ranges are`} read at once${blocks}; raise sources.${name}.concurrency or lower parallelRanges`,
      );
    }
  }
  return warnings;
}
