/**
 * Payloads that cross Temporal: names, counts and messages only. No row data and no
 * connection strings ever travel in them, so nothing personal or secret reaches history.
 */

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
  /** How the table is loaded. */
  mode: 'replace' | 'append' | 'merge';
  description?: string;
  owner?: string;
  impact?: string;
}

/** A BigQuery SQL step of the pipeline, run when the nodes it names have landed. */
export interface StepTask {
  key: string;
  after: string[];
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
  /** Requested tables that do not exist, with the reason. */
  unknown: { key: string; message: string }[];
}

export type NodeStatus = 'waiting' | 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** What a run reports for each table or step. */
export interface NodeResult {
  key: string;
  kind: 'table' | 'step';
  status: NodeStatus;
  rowsRead?: number;
  rowsLoaded?: number;
  bytesStaged?: number;
  /** Values the destination cannot hold, per column, that were loaded as NULL. */
  nulledValues?: Record<string, number>;
  startedAt?: string;
  durationMs?: number;
  /** How often this node was (re)started in the run; "sync now" adds one. */
  runs?: number;
  errorType?: string;
  error?: string;
  workflowId?: string;
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
}

/** What the table activity reports back. */
export interface TableSyncOutcome {
  rowsRead: number;
  rowsLoaded: number;
  bytesStaged: number;
  nulledValues: Record<string, number>;
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
  /** Continue as new after this many nodes finished in one run (history stays small). */
  continueAsNewAfter?: number;
  /** State handed over by continue-as-new. */
  carried?: CarriedState;
}

export interface CarriedState {
  startedAt: string;
  /** The run's time as it appears in its table syncs' workflow IDs. */
  stamp?: string;
  plan: RunPlan;
  results: NodeResult[];
}

export interface TableSyncInput {
  pipeline: string;
  task: TableTask;
}
