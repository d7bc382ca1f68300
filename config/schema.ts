import type { Duration } from '@temporalio/common/lib/time';
import { z } from 'zod';
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
  columns: columnRules.optional(),
  partitionBy: partitioning.optional(),
  /**
   * A full load of a table with a single integer primary key and more rows than this is
   * read in key ranges of about this many rows; a crash resumes after the last range that
   * reached BigQuery. Default 2,000,000.
   */
  chunkRows: z.number().int().min(1000).optional(),
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

export const sourceSchema = z.strictObject({
  type: z.enum(['mysql', 'postgres']),
  /** Connection URL; must come from the environment, e.g. `${SHOP_MYSQL_URL}`. */
  url: z.string().min(1),
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

export const stepSchema = z.strictObject({
  name: name('step name'),
  ...purpose,
  /** Tables (`source.table`) and steps that must land first. */
  after: z.array(nodeRef).min(1),
  /** Dataset that the step writes to; created when missing; `{{dataset}}` in the SQL. */
  dataset: name('dataset').optional(),
  /** BigQuery standard SQL. `{{project}}`, `{{dataset}}` and `{{datasets.<source>}}` are replaced. */
  sql: z.string().min(1),
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

export const pipelineSchema = z.strictObject({
  ...purpose,
  schedule: scheduleSchema.optional(),
  sources: z.array(z.string().min(1)).min(1),
  /** At most this many table syncs of this pipeline run at once, all sources together. */
  concurrency: z.number().int().min(1).max(256).default(8),
  /** A table whose worker has gone silent this long is retried on another worker. */
  heartbeatTimeout: duration.default('2m'),
  steps: z.array(stepSchema).default([]),
  /** Where a failed run is reported (a webhook whose URL comes from the environment). */
  notify: notifySchema.optional(),
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
export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type StepConfig = z.infer<typeof stepSchema>;
export type TableEntry = z.infer<typeof tableEntrySchema>;
export type TableSettings = z.infer<z.ZodObject<typeof tableSettings>>;
