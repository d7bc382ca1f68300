import type { Duration } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { durationMs } from '../common/duration';
import type { RetrySetting } from '../common/payloads';
import { STEP_RETRY_DEFAULTS, TABLE_RETRY_DEFAULTS } from '../common/retry-settings';
import { notifySchema } from './notify';

// Names that end up in workflow IDs, search attributes and BigQuery dataset names.
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const name = (what: string) =>
  z.string().regex(NAME, `${what} must start with a letter and hold only letters, digits and underscores (at most 64)`);

// Who a sync is for: every pipeline, source and table may say what it is, who owns it
// and what breaks when it stops.
const purpose = {
  description: z.string().optional(),
  owner: z.string().optional(),
  impact: z.string().optional(),
};

/** A reference to another node of the DAG: `source.table` or a step name. */
const nodeRef = z.string().min(1);

/** A duration such as "30s", "15m", "6h" or "1d". */
const duration = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration such as "30s", "15m", "6h" or "1d"') as unknown as z.ZodType<Duration>;

const columnName = z.string().min(1);

/** Columns that must not reach BigQuery as they are: personal data, secrets. */
const columnRules = z.strictObject({
  /** Not read at all. */
  exclude: z.array(columnName).default([]),
  /** Replaced by a keyed hash (HMAC-SHA256, key from BQSYNC_HASH_KEY): joinable, not readable. */
  hash: z.array(columnName).default([]),
  /** Replaced by asterisks except the last four characters. */
  mask: z.array(columnName).default([]),
});

const partitioning = z.union([
  z.strictObject({
    /** A DATE, DATETIME or TIMESTAMP column. */
    column: columnName,
    granularity: z.enum(['HOUR', 'DAY', 'MONTH', 'YEAR']).default('DAY'),
  }),
  z.strictObject({
    /** An integer column, split into ranges [start, end) of `interval`. */
    column: columnName,
    range: z.strictObject({ start: z.number().int(), end: z.number().int(), interval: z.number().int().positive() }),
  }),
]);

const tableSettings = {
  ...purpose,
  /** Other tables (`source.table`) or steps that must land before this table starts. */
  after: z.array(nodeRef).optional(),
  /**
   * replace: the whole table, atomically (default). append: new rows by a cursor column,
   * never updated. merge: new and changed rows by a cursor column, upserted by key.
   */
  mode: z.enum(['replace', 'append', 'merge']).optional(),
  /** Columns that identify a row, for append and merge (default: the primary key). */
  key: z.array(columnName).min(1).optional(),
  /** Column that grows with every insert (append) or change (merge): an integer, date or time. */
  cursor: columnName.optional(),
  /**
   * Rows this far below the last loaded cursor are read again, so rows committed late with
   * an older cursor value are not missed: a duration for time cursors, a number for integers.
   */
  overlap: z.union([duration, z.number().int().nonnegative()]).optional(),
  /** merge: a row whose column is true / non-zero / non-NULL is deleted from BigQuery. */
  deleteWhen: columnName.optional(),
  /**
   * Only the rows this condition keeps (the source's SQL, e.g. one day's slice):
   * `created_at >= {{session_date}} AND created_at < {{next_session_date}}`; the session
   * values are sent as query parameters, never spliced in.
   */
  where: z.string().min(1).optional(),
  columns: columnRules.optional(),
  partitionBy: partitioning.optional(),
  /**
   * A full load of a table with a single integer primary key and more rows than this is
   * read in key ranges of about this many rows; a crash resumes after the last range that
   * reached BigQuery. Default 2,000,000.
   */
  chunkRows: z.number().int().min(1000).optional(),
  /**
   * A table read in key ranges reads up to this many ranges at once, each on its own source
   * connection and on any worker of the task queue; each counts against the source's
   * `concurrency` for the whole sync of the table, so it is capped there. Default 1: the
   * ranges still go to any worker, one after another, and the table takes one permit of the
   * source as every other table does; raise it for the few tables that dominate a run.
   */
  parallelRanges: z.number().int().min(1).max(64).optional(),
  clusterBy: z.array(columnName).min(1).max(4).optional(),
  /**
   * Values BigQuery cannot hold (MySQL zero dates, PostgreSQL infinity, years beyond 9999,
   * NaN in a NUMERIC column): load them as NULL and count them per column, or fail the table.
   */
  invalidValues: z.enum(['null', 'fail']).optional(),
  /**
   * What the sync checks after the load: the row count (counts, the default), or also the
   * content, by checksums per key range at both ends (checksum; README "Verifying content").
   */
  verify: z.enum(['counts', 'checksum']).optional(),
};

export const tableEntrySchema = z.union([
  z.string().min(1),
  z
    .strictObject({
      name: z.string().min(1),
      /** BigQuery table name, when the source name is not a valid one. */
      destination: z.string().optional(),
      ...tableSettings,
    }),
]);

/** What a source's connection is opened for; `replica.useFor` sends these to the replica. */
export const SOURCE_USES = ['read', 'plan', 'doctor', 'estimates'] as const;

/**
 * A read replica of the source (same engine and schema), e.g. a hot standby or an Aurora
 * reader endpoint. `useFor`: read (a table sync: its shape, cursor statistics, key ranges
 * and rows, all from the replica), plan (discovery for runs and `bqsync plan`), doctor,
 * estimates (row estimates for `sync --wait`); the rest use `url`.
 */
const replicaSchema = z.strictObject({
  /** Connection URL; must come from the environment, like the source's `url`. */
  url: z.string().min(1),
  useFor: z
    .array(z.enum(SOURCE_USES))
    .min(1)
    .refine((uses) => new Set(uses).size === uses.length, 'names a use twice')
    .default(['read']),
});

/**
 * TLS to a source database. mode (PostgreSQL's sslmode words, for both engines): disable,
 * require (encrypted, certificate not checked), verify-ca (signed by a trusted CA), verify-full
 * (also issued to the URL's host name). Default: verify-full for a host that is not this
 * machine (or when a CA is given), else no TLS. The CA bundle (e.g. the RDS global bundle)
 * from a file or as PEM from the environment; a client certificate for mutual TLS likewise.
 * The URL's sslmode / sslrootcert / sslcert / sslkey win over these.
 */
export const sourceTlsSchema = z.strictObject({
  mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).optional(),
  caFile: z.string().min(1).optional(),
  /** PEM text, e.g. `${RDS_CA_PEM}`. */
  ca: z.string().min(1).optional(),
  certFile: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** PEM text of the client key: a secret, from the environment only (`${SHOP_DB_TLS_KEY}`). */
  key: z.string().min(1).optional(),
});

export const sourceSchema = z.strictObject({
  type: z.enum(['mysql', 'postgres']),
  /** Connection URL; must come from the environment, e.g. `${SHOP_MYSQL_URL}`. */
  url: z.string().min(1),
  /** A replica for the nightly read (and, if chosen, planning, doctor and estimates). */
  replica: replicaSchema.optional(),
  /** TLS settings (see sourceTlsSchema); the URL's sslmode and sslrootcert may say the same. */
  tls: sourceTlsSchema.optional(),
  /** MySQL database or PostgreSQL schema to read (default: the URL's database / `public`). */
  schema: z.string().min(1).optional(),
  /** BigQuery dataset the tables land in (default: the source name). */
  dataset: name('dataset').optional(),
  /** At most this many table syncs of this source run at once. */
  concurrency: z.number().int().min(1).max(64).default(4),
  ...purpose,
  tables: z.array(tableEntrySchema).optional(),
  /** Sync every table of the schema whose name matches `include` and not `exclude` (globs). */
  discover: z
    .strictObject({
      include: z.array(z.string().min(1)).default(['*']),
      exclude: z.array(z.string().min(1)).default([]),
    })
    .optional(),
  /** Settings for every table of this source; a table entry overrides them. */
  defaults: z.strictObject(tableSettings).optional(),
  /** How BigQuery table names are made from source table names (a destination: wins). */
  naming: z
    .strictObject({
      tablePrefix: z.string().default(''),
      case: z.enum(['keep', 'lower']).default('keep'),
    })
    .optional(),
});

/** A duration in milliseconds, NaN when it is not one. */
const msOf = (text: unknown): number => {
  try {
    return durationMs(String(text));
  } catch {
    return NaN;
  }
};

/**
 * How a failed table sync or SQL step is tried again (Digdag's `_retry`): `attempts` in all,
 * the first retry after `interval`, each wait twice the last, up to `maxInterval`. Errors
 * that another attempt cannot mend (bad config, a column BigQuery cannot widen) are not retried.
 */
const retrySchemaWith = (defaults: RetrySetting) =>
  z
    .strictObject({
      attempts: z.number().int().min(1).max(100).default(defaults.attempts),
      interval: duration.default(defaults.initialInterval as Duration),
      maxInterval: duration.default(defaults.maximumInterval as Duration),
    })
    // Temporal refuses such a policy only when the activity is scheduled.
    // (A malformed duration is reported by its own field: NaN passes these checks.)
    .refine((r) => !(msOf(r.maxInterval) < msOf(r.interval)), {
      message: 'maxInterval must not be shorter than interval (the first wait)',
      path: ['maxInterval'],
    })
    .refine((r) => !(msOf(r.interval) < 1000), { message: 'interval must be at least 1s (Temporal waits at least a second)', path: ['interval'] });

/** A pipeline's table syncs, and each of their key ranges. */
export const retrySchema = retrySchemaWith(TABLE_RETRY_DEFAULTS);
/** A SQL step (a query job, polled until it ends). */
export const stepRetrySchema = retrySchemaWith(STEP_RETRY_DEFAULTS);

export const stepSchema = z.strictObject({
  name: name('step name'),
  ...purpose,
  /** Tables (`source.table`) and steps that must land first. */
  after: z.array(nodeRef).min(1),
  /** Dataset that the step writes to; created when missing; `{{dataset}}` in the SQL. */
  dataset: name('dataset').optional(),
  /**
   * BigQuery standard SQL. `{{project}}`, `{{dataset}}` and `{{datasets.<source>}}` are replaced;
   * `{{session_date}}` and the other session values become typed literals, `@session_date`
   * and the others query parameters (see common/session-time.ts).
   */
  sql: z.string().min(1),
  /** How the step is tried again when it fails. */
  retry: stepRetrySchema.prefault({}),
});

const validTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** When the pipeline runs, as a Temporal Schedule (`bqsync schedule apply`). */
export const scheduleSchema = z
  .strictObject({
    /** Cron expression, e.g. "0 2 * * *" (minute hour day month weekday). */
    cron: z.string().min(1).optional(),
    /** Or a fixed interval, e.g. "6h" or "30s". */
    every: duration.optional(),
    /** IANA time zone the cron expression is read in, e.g. Asia/Tokyo. */
    timezone: z.string().refine(validTimeZone, 'not an IANA time zone (e.g. UTC, Asia/Tokyo)').default('UTC'),
    /** What to do when the previous run still runs: skip (default), buffer_one, or allow_all. */
    overlap: z.enum(['skip', 'buffer_one', 'allow_all']).default('skip'),
    /** Runs missed while Temporal was down are still started within this window. */
    catchupWindow: duration.default('1h'),
    /** A random delay up to this long, so that many schedules do not start at once. */
    jitter: duration.optional(),
  })
  .refine((s) => Boolean(s.cron) !== Boolean(s.every), 'give exactly one of cron: or every:');

/**
 * When a run must have finished (Digdag's `sla:`): a time of day in the pipeline's zone
 * (the first such time at or after the run's start), or a duration after the start.
 * Past it, with the run still going, the webhook is told once and the run shows as late.
 */
export const slaSchema = z
  .strictObject({
    time: z.string().regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'a time of day such as "06:00" (24-hour, in the pipeline\'s time zone)').optional(),
    after: duration.optional(),
  })
  .refine((s) => Boolean(s.time) !== Boolean(s.after), 'give exactly one of time: or after:');

/**
 * Tables of another pipeline that must have landed in its run for the same session date
 * before this pipeline's run starts anything (Digdag's `require>`).
 */
export const requirementSchema = z.strictObject({
  pipeline: name('pipeline name'),
  tables: z.array(nodeRef).min(1),
  /** The run fails (DependencyTimeout) when they have not landed by then. */
  timeout: duration.default('6h'),
});

export const pipelineSchema = z.strictObject({
  ...purpose,
  schedule: scheduleSchema.optional(),
  /** The zone session dates are read in (`{{session_date}}`); default: the schedule's, else UTC. */
  timezone: z.string().refine(validTimeZone, 'not an IANA time zone (e.g. UTC, Asia/Tokyo)').optional(),
  /** Sources whose tables the pipeline syncs; none for a pipeline of SQL steps that requires: another's tables. */
  sources: z.array(z.string().min(1)).default([]),
  /** Tables of other pipelines' runs of the same session date that must land first. */
  requires: z.array(requirementSchema).default([]),
  /** At most this many table syncs of this pipeline run at once, all sources together. */
  concurrency: z.number().int().min(1).max(256).default(8),
  /** A table sync or SQL step whose worker has gone silent this long is retried on another worker. */
  heartbeatTimeout: duration.default('2m'),
  /** How a failed table sync (or one of its key ranges) is tried again. */
  retry: retrySchema.prefault({}),
  steps: z.array(stepSchema).default([]),
  /** Where a failed run is reported (a webhook whose URL comes from the environment). */
  notify: notifySchema.optional(),
  /** When a run must have finished; a late run is reported to the webhook once. */
  sla: slaSchema.optional(),
  /** verify: for the pipeline's tables that set none themselves (nor their source's defaults). */
  verify: z.enum(['counts', 'checksum']).optional(),
});

/**
 * TLS to the Temporal server. PEM contents (e.g. `${TEMPORAL_TLS_KEY}` from Secrets Manager)
 * or file paths; the key is a secret and is read from the environment only.
 */
export const temporalTlsSchema = z.strictObject({
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** CA of a self-hosted server's certificate, when the system does not trust it. */
  caFile: z.string().min(1).optional(),
  serverName: z.string().min(1).optional(),
});

export const configSchema = z.strictObject({
  temporal: z
    .strictObject({
      address: z.string().default('127.0.0.1:7233'),
      namespace: z.string().default('default'),
      taskQueue: z.string().default('bqsync'),
      /** Base URL of the Temporal Web UI, for the links the CLI prints. */
      webUrl: z.string().default('http://127.0.0.1:8233'),
      /** Temporal Cloud API key, e.g. `${TEMPORAL_API_KEY}` (a secret: environment only); implies TLS. */
      apiKey: z.string().min(1).optional(),
      /** TLS to the server: `true`, or mTLS with a client certificate (see temporalTlsSchema). */
      tls: z.union([z.boolean(), temporalTlsSchema]).optional(),
    })
    .prefault({}),
  bigquery: z.strictObject({
    project: z.string().min(1),
    location: z.string().default('US'),
    /** API endpoint override, e.g. the BigQuery emulator; empty means Google's. */
    endpoint: z.string().optional(),
    /** Staging files are gzip-compressed for BigQuery; the emulator reads only plain files. */
    stagingCompression: z.enum(['gzip', 'none']).default('gzip'),
  }),
  sources: z.record(name('source name'), sourceSchema),
  pipelines: z.record(name('pipeline name'), pipelineSchema),
});

export type Config = z.infer<typeof configSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
export type SourceUse = (typeof SOURCE_USES)[number];
export type SourceTlsConfig = z.infer<typeof sourceTlsSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type StepConfig = z.infer<typeof stepSchema>;
export type SlaConfig = z.infer<typeof slaSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;
export type RequirementConfig = z.infer<typeof requirementSchema>;
export type TableEntry = z.infer<typeof tableEntrySchema>;
export type TableSettings = z.infer<z.ZodObject<typeof tableSettings>>;
