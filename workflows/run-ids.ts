/**
 * Readable workflow IDs for the table syncs of a run: `bqsync-nightly.2026-11-25T02:00:00Z.shop.orders`.
 * The time is the one the run belongs to: its scheduled time when a schedule (or a backfill)
 * started it, otherwise the time it started. Pure, so it is safe in workflow code.
 */
export function runStamp(startedAt: string, scheduledAt?: Date): string {
  const when = scheduledAt && !Number.isNaN(scheduledAt.getTime()) ? scheduledAt.toISOString() : startedAt;
  return when.replace(/\.\d+Z$/, 'Z');
}

/** The n-th (1-based) sync of a table in one run; later ones get a `.n` suffix. */
export function tableWorkflowId(pipeline: string, stamp: string, key: string, n: number): string {
  return `bqsync-${pipeline}.${stamp}.${key}${n > 1 ? `.${n}` : ''}`;
}

/** The IDs of runs begun before run-dated IDs: `<parent ID>.<compact start time>.<key>`. */
export function legacyTableWorkflowId(parentId: string, startedAt: string, key: string, n: number): string {
  const stamp = startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${parentId}.${stamp}.${key}${n > 1 ? `.${n}` : ''}`;
}
