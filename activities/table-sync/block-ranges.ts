import type { KeyRange, TableTask } from '../../common/payloads';
import type { SourceConnection } from '../../sources/driver';
import { planBlockRanges } from './block-chunks';

/** A table to read in block ranges, or why it is read in one piece although it asked for ranges. */
export type BlockSplit = { ranges: KeyRange[] } | { onePiece: string } | undefined;

/**
 * A full load of a table without an integer leading key column goes in ranges of its
 * physical blocks when the engine can share one snapshot between sessions (PostgreSQL), the
 * table has more rows than `chunkRows` by the database's estimate, and the table sync may
 * read more than one range at once (`parallelRanges` > 1, and a permit besides the ranges'
 * for the session that holds the snapshot). Before the ranges are planned, the session here
 * exports a snapshot once: a server that cannot (some poolers, old versions) reads the table
 * in one piece, and the result says why, as it does when the table sync holds one permit.
 */
export async function blockSplit(reader: SourceConnection, task: TableTask, permits = 2): Promise<BlockSplit> {
  const shared = reader.sharedSnapshots;
  if (!shared || !task.chunkRows || (task.parallelRanges ?? 1) < 2) return undefined;
  const estimatedRows = (await reader.estimateRows([task.table])).get(task.table) ?? 0;
  if (estimatedRows <= task.chunkRows) return undefined;
  // permits = min(parallelRanges, the source's concurrency), and parallelRanges is 2 or more here.
  if (permits < 2) {
    return {
      onePiece: `read in one piece: block ranges need the source's concurrency to be 2 or more (one session holds the shared snapshot while the others read), and it is ${permits}`,
    };
  }
  try {
    await shared.exportSnapshot();
  } catch (err) {
    return { onePiece: `read in one piece: the source cannot share a snapshot between sessions (${(err as Error).message.split('\n')[0]})` };
  } finally {
    await reader.endSnapshot().catch(() => undefined);
  }
  const blocks = await shared.tableBlocks(task.table);
  return { ranges: planBlockRanges(blocks, estimatedRows, task.chunkRows) };
}
