/**
 * Every Temporal ID bqsync makes, in one place. Pure, so that workflow code may use it.
 *
 * - a pipeline's run: `bqsync-nightly`, one at a time, and the place "sync now" is sent;
 * - a scheduled run: Temporal appends the scheduled time, `bqsync-nightly-2026-11-25T02:00:00Z`;
 * - a pipeline's schedule: `bqsync-nightly`;
 * - a table sync: its run's ID, the run time unless that ID ends in it, then the table:
 *   `bqsync-nightly-2026-11-25T02:00:00Z.shop.orders` in a scheduled run,
 *   `bqsync-nightly.2026-12-05T09:14:03Z.shop.orders` in a run started by hand (`.2`, `.3`
 *   for later syncs of the same table in one run).
 */
const PREFIX = 'bqsync-';

export function pipelineWorkflowId(pipeline: string): string {
  return `${PREFIX}${pipeline}`;
}

/** The IDs a schedule gives the runs it starts, as a listing shows them. */
export function scheduledWorkflowId(pipeline: string, scheduledAt: string): string {
  return `${pipelineWorkflowId(pipeline)}-${scheduledAt.replace(/\.000Z$/, 'Z')}`;
}

export function scheduleId(pipeline: string): string {
  return `${PREFIX}${pipeline}`;
}

/** Schedules bqsync owns; any other schedule on the namespace is left alone. */
export function isOwnScheduleId(id: string): boolean {
  return id.startsWith(PREFIX);
}

/**
 * The time a run belongs to, readable in its table syncs' IDs: its scheduled time when a
 * schedule (or a backfill) started it, otherwise the time it started.
 */
export function runStamp(startedAt: string, scheduledAt?: Date): string {
  const when = scheduledAt && !Number.isNaN(scheduledAt.getTime()) ? scheduledAt.toISOString() : startedAt;
  return when.replace(/\.\d+Z$/, 'Z');
}

/** The suffix of a table's n-th (1-based) sync in one run: none for the first, `.n` after. */
const nth = (n: number): string => (n > 1 ? `.${n}` : '');

/**
 * The n-th (1-based) sync of a table in one run; later ones get a `.n` suffix. Built on the
 * run's own ID, which no other running workflow has, so that two runs for the same run time
 * (a schedule's and a re-run of that night by hand, or two started in the same second) never
 * share a table sync's ID. A schedule's run ID already ends in its run time; a hand-started
 * run's ID (`bqsync-nightly`) gets it added.
 */
export function tableWorkflowId(runWorkflowId: string, stamp: string, key: string, n: number): string {
  const run = runWorkflowId.endsWith(`-${stamp}`) ? runWorkflowId : `${runWorkflowId}.${stamp}`;
  return `${run}.${key}${nth(n)}`;
}

/** The IDs of runs begun before run-dated IDs: `<parent ID>.<compact start time>.<key>`. */
export function legacyTableWorkflowId(parentId: string, startedAt: string, key: string, n: number): string {
  const stamp = startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${parentId}.${stamp}.${key}${nth(n)}`;
}

/** The pipeline of any of the workflow IDs above, or undefined for an ID bqsync did not make. */
export function pipelineOfWorkflowId(workflowId: string | undefined): string | undefined {
  if (!workflowId?.startsWith(PREFIX)) return undefined;
  return /^([A-Za-z][A-Za-z0-9_]*)(?:[.-]|$)/.exec(workflowId.slice(PREFIX.length))?.[1];
}
