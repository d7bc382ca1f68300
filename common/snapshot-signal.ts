/**
 * The signal by which the activity holding a table's shared snapshot hands its ID to the
 * table sync workflow (activities/table-sync/snapshot-holder.ts -> workflows/snapshot-ranges.ts).
 * A transaction's snapshot ID and a hash of its horizons: no row value.
 */
export const SNAPSHOT_SIGNAL = 'rangesSnapshot';

/** The holder heartbeats at least this often in its timeout, so that a dead holder is noticed soon. */
export const HOLDER_HEARTBEAT_TIMEOUT_MS = 20_000;
