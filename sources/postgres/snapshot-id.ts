/**
 * The ID pg_export_snapshot() returns: `%08X-%08X-%d` (PostgreSQL 10 and later), `%08X-%d`
 * before. SET TRANSACTION SNAPSHOT takes no parameter, so the ID is spliced into its SQL:
 * only text of exactly this form ever is.
 */
const SNAPSHOT_ID = /^[0-9A-F]{8}(-[0-9A-F]{8})?-[0-9]{1,10}$/;

export function checkSnapshotId(id: string): string {
  if (!SNAPSHOT_ID.test(id)) throw new Error(`${JSON.stringify(id.slice(0, 40))} is not a PostgreSQL snapshot ID (pg_export_snapshot's form)`);
  return id;
}
