/**
 * Payloads that cross Temporal: names, counts and messages only. No row data and no
 * connection strings ever travel in them, so nothing personal or secret reaches history.
 */

export type LoadMode = 'replace' | 'append' | 'merge';

/** One table to sync, as planned by discovery. */
export interface TableTask {
  /** `source.table`, the name operators use. */
  key: string;
  source: string;
  table: string;
  /** BigQuery dataset and table it lands in. */
  dataset: string;
  destination: string;
  /** Keys of the tables and steps that must succeed first. */
  after: string[];
  /** What to do with values BigQuery cannot hold: load NULL (and count) or fail. */
  invalidValues: 'null' | 'fail';
  /** How rows reach the destination; see config/schema.ts. */
  mode: LoadMode;
  /** After the load: the row count only, or also the content by checksums (absent: counts). */
  verify?: 'counts' | 'checksum';
  /** Row identity for append/merge; the source's primary key when absent. */
  keyColumns?: string[];
  cursor?: string;
  overlap?: string | number;
  deleteWhen?: string;
  /** Only the rows this source-SQL condition keeps; `{{session_date}}` etc. bound as parameters. */
  where?: string;
  /** The run's session time (ISO 8601), set on tables with a `where:`. */
  sessionTime?: string;
  /** The zone the session dates are read in, set with sessionTime. */
  timeZone?: string;
  /** The schedule the previous and next sessions follow: a cron expression or milliseconds. */
  cadence?: { cron: string } | { everyMs: number };
  columns?: { exclude: string[]; hash: string[]; mask: string[] };
  partitionBy?: { column: string; granularity?: 'HOUR' | 'DAY' | 'MONTH' | 'YEAR'; range?: { start: number; end: number; interval: number } };
  clusterBy?: string[];
  /** Full loads of larger tables go in key ranges of about this many rows. */
  chunkRows?: number;
  /** Key ranges read at once (capped by the source's concurrency); absent: 1. */
  parallelRanges?: number;
  /** Rebuild the table from every source row with the source's current schema, whatever the mode. */
  fullRefresh?: boolean;
  /** Found by the source's discover: rather than listed under its tables:. */
  discovered?: boolean;
  description?: string;
  owner?: string;
  impact?: string;
}

/** A BigQuery SQL step of the pipeline, run when the nodes it names have landed. */
export interface StepTask {
  key: string;
  after: string[];
  /** The step's `retry:`; absent in runs planned before it existed. */
  retry?: RetrySetting;
  description?: string;
  owner?: string;
  impact?: string;
}

export interface RunPlan {
  pipeline: string;
  tables: TableTask[];
  steps: StepTask[];
  /** At most this many table syncs at once, per source. */
  sourceConcurrency: Record<string, number>;
  /** At most this many table syncs at once in the run. */
  globalConcurrency: number;
  /** A table sync whose worker is silent this long is retried elsewhere. */
  heartbeatTimeout?: string;
  /** How a failed table sync is retried (the pipeline's `retry:`); absent in runs planned before it existed. */
  retry?: RetrySetting;
  /** Requested tables that do not exist, with the reason. */
  unknown: { key: string; message: string }[];
  /** Discovered tables that would land in the BigQuery table of another: failed, with both named. */
  conflicts?: { key: string; message: string }[];
  /** The run's deadline (the pipeline's `sla:`), fixed when the run was planned. */
  sla?: RunDeadline;
  /** Other pipelines' tables that must land (for this session date) before anything starts. */
  requires?: PipelineRequirement[];
}

export interface PipelineRequirement {
  pipeline: string;
  tables: string[];
  /** This run's session date (YYYY-MM-DD, its pipeline's zone): the other run must stand for the same date. */
  sessionDate: string;
  /** The zone the other pipeline's session dates are read in. */
  timeZone: string;
  timeoutMs: number;
}

export interface RunDeadline {
  /** ISO 8601 instant. */
  deadline: string;
  /** The rule as the config writes it, for messages: `time 06:00 Asia/Tokyo`, `after 2h`. */
  rule: string;
}

/** A run that passed its deadline while still going. */
export interface RunLateness extends RunDeadline {
  /** When the run noticed (the deadline's timer fired). */
  notedAt: string;
}

export type NodeStatus = 'waiting' | 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** What a run reports for each table or step. */
/** A table's node carries its sync's outcome (rows, drift, resumed jobs) once it has one. */
export interface NodeResult extends Partial<TableSyncOutcome> {
  key: string;
  kind: 'table' | 'step';
  status: NodeStatus;
  startedAt?: string;
  durationMs?: number;
  /** How often this node was (re)started in the run; "sync now" adds one. */
  runs?: number;
  errorType?: string;
  error?: string;
  workflowId?: string;
  /** A running table that waits for its destination's write lock or its source: why. */
  waitingFor?: string;
}

export interface RunSummary {
  pipeline: string;
  startedAt: string;
  finishedAt?: string;
  succeeded: number;
  failed: number;
  skipped: number;
  running: number;
  pending: number;
  rowsLoaded: number;
  results: NodeResult[];
  /** Set when the run passed its `sla:` deadline before it ended. */
  late?: RunLateness;
  /** While the run waits for another pipeline's tables: `waiting for nightly: shop.orders (session date ...)`. */
  waitingFor?: string;
}

/** What the table activity reports back. */
export interface TableSyncOutcome {
  rowsRead: number;
  rowsLoaded: number;
  bytesStaged: number;
  /** Values the destination cannot hold, per column, that were loaded as NULL. */
  nulledValues: Record<string, number>;
  mode?: LoadMode;
  /** Incremental runs: the cursor range read (from is inclusive; absent on a first load). */
  cursorFrom?: string;
  cursorTo?: string;
  /** Source rows whose cursor is NULL: a `>=` never selects them, so every incremental run reads them. */
  cursorNulls?: number;
  /** Source rows dated after the source's clock: the bound stops at the clock, so they are read on every run. */
  cursorAhead?: number;
  /** Columns an incremental run added: rows it did not read hold NULL there until a full refresh. */
  nullUntilFullRefresh?: string[];
  /** Schema drift seen at the source and how the destination followed it. */
  schemaChanges?: SchemaChanges;
  /** The load job of an earlier attempt that had already landed, so it was not repeated. */
  resumedJob?: string;
  /** The column rules (exclude, hash, mask) differ from those the table was loaded with: it was rebuilt. */
  rulesChanged?: boolean;
  /** Key ranges the table was read in, and how many of them an earlier attempt had landed. */
  chunks?: number;
  chunksResumed?: number;
  /** Key ranges read as activities of their own: at most this many at once, by these workers (their identities). */
  rangesAtOnce?: number;
  rangeWorkers?: string[];
  /** 'blocks': the ranges were of the table's physical blocks, all read in one shared snapshot. */
  rangesBy?: 'blocks';
  /** Why a table that asked for parallel ranges was read in one piece (e.g. no shared snapshot). */
  onePiece?: string;
  /** verify: checksum: what the content comparison found (keys, counts, column names only). */
  content?: ContentOutcome;
}

/** A key range [from, below) of an integer key; no `below`: to the end. Integers only, never row values. */
export interface KeyRange {
  from: string;
  below?: string;
}

/**
 * A full load planned in key ranges, each read and loaded by an activity of its own on any
 * worker (activities/table-sync/range-*.ts), then swapped in by one more. Names, a hash and
 * integer bounds only: no row value reaches history.
 */
export interface RangePlan {
  kind: 'ranges';
  /** The staging table every range appends to, in the destination's dataset: one per sync. */
  staging: string;
  /** The key column the ranges split (the first primary key column, an integer); '' for blocks. */
  column: string;
  /**
   * 'blocks': the ranges are of the table's physical blocks (PostgreSQL ctid), and every
   * range reads the one snapshot a holding activity exported; absent: key ranges.
   */
  by?: 'blocks';
  /** A hash of the schema the ranges load with: a range that plans another one fails. */
  schema: string;
  ranges: KeyRange[];
  /** An append or merge table's cursor at the source, counted when the plan was made. */
  cursor?: { nulls: number; ahead: number };
  /**
   * Ranges of a key that does not start with an integer (MySQL/MariaDB): the boundary
   * tuples are rows of this BigQuery table beside the staging table, never in history;
   * the ranges' `from` and `below` are then the numbers of their boundary rows.
   */
  bounds?: KeyBounds;
}

/** The table of boundary key tuples of a sync's ranges, and the key's columns, in key order. */
export interface KeyBounds {
  table: string;
  columns: string[];
}

/** One range to read and append to the plan's staging table. */
export interface RangeTask {
  task: TableTask;
  plan: Omit<RangePlan, 'ranges'>;
  /** From 0; the range's load job carries index + 1. */
  index: number;
  count: number;
  range: KeyRange;
  /** Block ranges: the shared snapshot to read in (its ID and fingerprint, no row value). */
  snapshot?: SnapshotRef;
}

/** A snapshot a source session exported and holds open while the block ranges read it. */
export interface SnapshotRef {
  id: string;
  fingerprint: string;
}

/** What one range landed in the staging table. */
export interface RangeResult {
  rows: number;
  bytes: number;
  nulledValues: Record<string, number>;
  /** An earlier attempt's load job had landed the range: it was not read again. */
  resumed: boolean;
  /** The identity of the worker that ran the activity (as in the workflow's history). */
  worker: string;
}

/** The content verification in a table's result. */
export interface ContentOutcome {
  /** Rows compared, checksum ranges, and the BigQuery bytes the checksums scanned. */
  rows: number;
  ranges: number;
  bytesScanned: number;
  seconds: number;
  /** Whether the source side read the extraction's own snapshot. */
  sameSnapshot: boolean;
  /** Columns compared by NULL-ness only (hashed columns), and left out (floats). */
  nullnessOnly?: string[];
  notCompared?: string[];
  /** Why the content was not compared (no primary key...): only the count was. */
  skipped?: string;
}

export interface SchemaChanges {
  added: string[];
  /** Dropped at the source, kept in BigQuery with NULL from now on. */
  dropped: string[];
  widened: { column: string; from: string; to: string }[];
}

export interface AddTablesOptions {
  /** Rebuild the tables from every source row, whatever their mode. */
  fullRefresh?: boolean;
}

export interface AddTablesResult {
  key: string;
  outcome: 'queued' | 'already-queued' | 'already-running' | 'unknown';
  message?: string;
}

export interface NightlySyncInput {
  pipeline: string;
  /** Only these tables (`source.table`); all of the pipeline when absent. */
  tables?: string[];
  /** Rebuild incremental tables from every source row (`--full-refresh`). */
  fullRefresh?: boolean;
  /** Continue as new after this many nodes finished in one run (history stays small). */
  continueAsNewAfter?: number;
  /** The session time of a manual run (`--session-time`, ISO 8601 UTC); a scheduled run's is its scheduled time. */
  sessionTime?: string;
  /** State handed over by continue-as-new. */
  carried?: CarriedState;
}

export interface CarriedState {
  startedAt: string;
  /** The run's time as it appears in its table syncs' workflow IDs. */
  stamp?: string;
  plan: RunPlan;
  results: NodeResult[];
  /** The run had passed its deadline (and said so) before it continued as new. */
  late?: RunLateness;
}

/** A `retry:` (a pipeline's for its table syncs, a step's own) as the workflows apply it. */
export interface RetrySetting {
  attempts: number;
  initialInterval: string;
  maximumInterval: string;
}

export interface TableSyncInput {
  pipeline: string;
  task: TableTask;
  heartbeatTimeout?: string;
  /** Absent in table syncs started before `retry:` existed: the defaults then. */
  retry?: RetrySetting;
  /** The source's `concurrency`, which the write locks hold across every run. */
  sourceConcurrency?: number;
}
