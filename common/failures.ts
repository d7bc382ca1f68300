import { ApplicationFailure } from '@temporalio/common';

/**
 * Every failure type an operator can meet in the Web UI, the CLI or a notification, with
 * whether a retry may get past it and what the operator should do. Activities throw these
 * types, workflows decide retries from this table and the CLI explains them: one list, so
 * that they cannot drift apart.
 */
const ACTIVITY_FAILURES = {
  // A person has to change something: a retry would fail the same way.
  ConfigError: { retryable: false, action: 'fix the config file or the environment named in the message' },
  SchemaError: { retryable: false, action: 'rename or exclude the column or table named in the message' },
  SourceTableMissing: { retryable: false, action: 'restore the table at the source, or remove it from the config' },
  RowCountMismatch: { retryable: false, action: 're-run the table; if it repeats, compare source and destination by key' },
  ContentMismatch: { retryable: false, action: 're-run the table (bqsync sync <table>), then bqsync verify <table>; if the same keys differ again, compare them at both ends' },
  UnrepresentableValues: { retryable: false, action: 'fix the values at the source, or set invalidValues: null' },
  RowsRejected: { retryable: false, action: 'fix the values of the column the message names at the source, or exclude that column; then bqsync sync <table>' },
  SchemaDrift: { retryable: false, action: 'run bqsync sync <table> --full-refresh, or change the column back at the source' },
  WebhookRejected: { retryable: false, action: 'check the webhook URL in the environment variable the config names' },
  DependencyTimeout: { retryable: false, action: 'see why the required pipeline\'s tables did not land for this session (bqsync runs <pipeline>), then run this pipeline again with --session-time' },
  SnapshotLost: { retryable: false, action: 'run the table again (bqsync sync <table>): it reads a new snapshot from the start; if it repeats, see why the source session holding the snapshot ended (the worker log, the database server log, idle-session killers)' },
  StagingBudgetTooSmall: { retryable: false, action: 'raise BQSYNC_STAGING_BUDGET_BYTES (and the disk) above the size of the table\'s staged file' },
  // Faults of the world around the sync: a later attempt may get past them.
  SourceConnectionLost: { retryable: true, action: 'none if a retry succeeds; else read the database server log' },
  SourceReadCancelled: { retryable: true, action: 'none if a retry succeeds; else change the setting the message names (a standby: max_standby_streaming_delay or hot_standby_feedback), or read the table in smaller key ranges (chunkRows)' },
  BigQueryUnreachable: { retryable: true, action: 'none if a retry succeeds; else check the network path to BigQuery' },
  StagingDiskFull: { retryable: true, action: 'none if a retry succeeds; else free space, give the worker more disk, or lower BQSYNC_STAGING_BUDGET_BYTES' },
  StagingBudgetWait: { retryable: true, action: 'none: the table is retried when other tables have freed the staging budget' },
  AttemptSuperseded: { retryable: true, action: 'none: a later attempt of the same table sync carries on' },
  BigQueryBusy: { retryable: true, action: "none if a retry succeeds; else check BigQuery's status page and the project's quotas" },
} as const;

/** What a run reports for a node that did not succeed without an activity failing. */
const RUN_FAILURES = {
  TablesFailed: { retryable: false, action: 'fix the failed tables, then re-run them with bqsync retry last --failed' },
  UnknownTable: { retryable: false, action: 'name a table of the pipeline as source.table' },
  InputFailed: { retryable: false, action: 'fix the node it waits for; it runs again with it' },
  Unreachable: { retryable: false, action: 'fix the node it waits for; it could not finish in this run' },
  DestinationConflict: { retryable: false, action: 'give one of the two tables a destination: (or its source another dataset:) so that they land in different BigQuery tables' },
} as const;

export const FAILURES = { ...ACTIVITY_FAILURES, ...RUN_FAILURES } satisfies Record<string, { retryable: boolean; action: string }>;

export type FailureType = keyof typeof FAILURES;

/** The name of a failure type, checked at compile time against the catalogue. */
export const failureType = <T extends FailureType>(type: T): T => type;

/** Activity failures a retry cannot fix: what activity retry policies pass as nonRetryableErrorTypes. */
export const NON_RETRYABLE_TYPES: FailureType[] = (Object.keys(ACTIVITY_FAILURES) as (keyof typeof ACTIVITY_FAILURES)[]).filter(
  (t) => !ACTIVITY_FAILURES[t].retryable,
);

/** What the operator should do about a failure type; undefined for a type bqsync does not make. */
export function operatorAction(type: string | null | undefined): string | undefined {
  return type && Object.hasOwn(FAILURES, type) ? FAILURES[type as FailureType].action : undefined;
}

/** A failure of a catalogued type, retryable or not as the catalogue says. */
export function failure(type: FailureType, message: string): ApplicationFailure {
  return FAILURES[type].retryable ? ApplicationFailure.retryable(message, type) : ApplicationFailure.nonRetryable(message, type);
}

export function configFailure(message: string): ApplicationFailure {
  return failure('ConfigError', message);
}

export function schemaFailure(message: string): ApplicationFailure {
  return failure('SchemaError', message);
}
