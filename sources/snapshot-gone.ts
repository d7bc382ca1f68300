/**
 * A read that was to run in a snapshot another session exported (block ranges of one table,
 * activities/table-sync/snapshot-holder.ts), and that snapshot is no longer there to import:
 * its transaction ended (the holding worker died, its connection was killed), or an ID now
 * names another snapshot. No row was read: a read in any other snapshot would not fit the
 * ranges already read.
 */
export class SourceSnapshotGone extends Error {
  constructor(
    readonly table: string,
    readonly reason: string,
  ) {
    super(`the shared snapshot of table ${table} could not be read in: ${reason}`);
    this.name = 'SourceSnapshotGone';
  }
}
