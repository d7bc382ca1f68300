import path from 'node:path';
import { EMBULK_INPUTS } from '../../sources/registry';
import type { SourceType } from '../../sources/registry';
import { whereCondition } from '../../common/session-time';
import { renderLiquid } from './liquid';
import { mapDigdagVariables, type Exports } from './digdag-vars';
import { parseLocated, type LocatedYaml } from './yaml-lines';
import type { ImportReport } from './report';

/** Where an Embulk config reads: one bqsync source per distinct connection and dataset. */
export interface EmbulkConnection {
  plugin: string;
  type: SourceType;
  scheme: string;
  host: string;
  port: string;
  user: string;
  database: string;
  /** The schema bqsync reads: MySQL's database, PostgreSQL's `schema:` (default public). */
  schema: string;
  dataset: string;
  project?: string;
  location?: string;
}

/** One table an Embulk config loads, as bqsync's table settings. */
export interface EmbulkTable {
  file: string;
  line: number;
  connection: EmbulkConnection;
  table: string;
  destination?: string;
  mode: 'replace' | 'append' | 'merge';
  cursor?: string;
  key?: string[];
  where?: string;
  partitionBy?: { column: string; granularity: 'HOUR' | 'DAY' | 'MONTH' | 'YEAR' };
  clusterBy?: string[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** Settings that change nothing in bqsync, and why. */
const IGNORED_IN: Record<string, string> = {
  fetch_rows: 'bqsync streams rows with backpressure; no fetch size to set',
  connect_timeout: 'bqsync uses its own connection timeout',
  socket_timeout: 'reads are bounded by the pipeline\'s heartbeatTimeout, not a socket timeout',
  order_by: 'rows are loaded in one job per table; their order does not matter to BigQuery',
  last_record: 'bqsync keeps its own high-water mark in BigQuery (_bqsync_cursor_marks); no start value is needed',
  driver_path: 'bqsync has its own drivers',
  use_raw_query_with_incremental: 'custom incremental queries are not supported; bqsync builds the incremental read from cursor:',
};

const IGNORED_OUT: Record<string, string> = {
  auth_method: 'credentials come from the worker\'s environment (Application Default Credentials)',
  json_keyfile: 'credentials come from the worker\'s environment (GOOGLE_APPLICATION_CREDENTIALS); no key file in the config',
  auto_create_table: 'bqsync always creates missing tables and datasets',
  auto_create_dataset: 'bqsync always creates missing tables and datasets',
  source_format: 'bqsync stages NEWLINE_DELIMITED_JSON itself',
  compression: 'bqsync compresses staged files (bigquery.stagingCompression)',
  payload_column_index: 'not applicable',
  gcs_bucket: 'bqsync loads from the worker without a bucket',
  retries: 'bqsync retries each table 4 times with backoff',
  timeout_sec: 'not applicable',
  open_timeout_sec: 'not applicable',
  abort_on_error: 'a refused value fails the table (RowsRejected)',
  allow_quoted_newlines: 'not applicable: bqsync writes JSON',
  max_bad_records: 'bqsync loads every row or fails the table; it never drops rows silently',
  ignore_unknown_values: 'not applicable',
  with_rehearsal: 'not applicable',
  path_prefix: 'not applicable',
  file_ext: 'not applicable',
  delete_from_local_when_job_end: 'staged files are always removed',
};

/**
 * Reads one Embulk config (`.yml` or `.yml.liquid`): an `in:` of a MySQL or PostgreSQL
 * plugin and an `out: type: bigquery`. Returns the table it loads, or undefined (reported)
 * when it cannot be mapped.
 */
export function readEmbulkConfig(file: string, baseDir: string, exports: Exports, report: ImportReport): EmbulkTable | undefined {
  const rendered = renderLiquid(file, baseDir, report);
  const rel = path.relative(baseDir, file);
  let y: LocatedYaml;
  try {
    y = parseLocated(rendered);
  } catch (err) {
    report.add(rel, undefined, 'unmapped', 'the whole file', `${(err as Error).message}; fix the file and import again`);
    return undefined;
  }
  // Digdag renders ${...} in the files its embulk> operator runs.
  const mapStrings = (value: unknown, keys: (string | number)[]): unknown => {
    if (typeof value === 'string') {
      const mapped = mapDigdagVariables(value, exports);
      for (const u of mapped.unmapped) {
        const at = y.where(...keys);
        report.add(at.file, at.line, 'unmapped', u, 'a Digdag variable bqsync has no equivalent for; replace it with a session value ({{session_date}}, {{last_session_date}}, ...) or a literal');
      }
      return mapped.text;
    }
    if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, [...keys, i]));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, [...keys, k])]));
    return value;
  };
  y = { ...y, data: mapStrings(y.data, []) };
  const config = obj(y.data);
  const input = obj(config.in);
  const output = obj(config.out);
  const plugin = str(input.type) ?? '';
  const engine = EMBULK_INPUTS[plugin];
  if (!engine) {
    const at = y.where('in', 'type');
    report.add(at.file, at.line, 'unmapped', `in: type: ${plugin || '(none)'}`, `bqsync reads MySQL and PostgreSQL only (Embulk plugins ${Object.keys(EMBULK_INPUTS).join(', ')}); this config was not imported`);
    return undefined;
  }
  if (str(output.type) !== 'bigquery') {
    const at = y.where('out', 'type');
    report.add(at.file, at.line, 'unmapped', `out: type: ${str(output.type) ?? '(none)'}`, 'bqsync writes to BigQuery only; this config was not imported');
    return undefined;
  }
  const note = (keys: (string | number)[], kind: 'unmapped' | 'changed', what: string, todo: string) => {
    const at = y.where(...keys);
    report.add(at.file, at.line, kind, what, todo);
  };

  const database = str(input.database) ?? '';
  const connection: EmbulkConnection = {
    plugin,
    type: engine.type,
    scheme: engine.scheme,
    host: str(input.host) ?? 'localhost',
    port: str(input.port) ?? String(engine.defaultPort),
    user: str(input.user) ?? '',
    database,
    schema: engine.databaseIsSchema ? database : (str(input.schema) ?? 'public'),
    dataset: str(output.dataset) ?? '',
    project: str(output.project),
    location: str(output.location),
  };
  if (input.password !== undefined) {
    note(['in', 'password'], 'changed', 'password', 'not written to bqsync.yaml: put the password into the source\'s URL environment variable (Secrets Manager in production)');
  }
  if (input.options !== undefined) {
    note(['in', 'options'], 'unmapped', `options: ${JSON.stringify(input.options)}`, 'JDBC properties do not apply; put connection parameters the driver knows (e.g. ssl) into the URL variable');
  }
  if (input.ssl !== undefined) note(['in', 'ssl'], 'unmapped', `ssl: ${str(input.ssl)}`, 'put TLS settings into the URL variable (e.g. ?ssl=... / sslmode=require)');
  for (const [key, why] of Object.entries(IGNORED_IN)) if (input[key] !== undefined) note(['in', key], 'changed', `${key}: ${str(input[key])}`, why);
  for (const [key, why] of Object.entries(IGNORED_OUT)) if (output[key] !== undefined) note(['out', key], 'changed', `${key}: ${str(output[key])}`, why);
  if (input.column_options !== undefined) {
    note(['in', 'column_options'], 'changed', 'in: column_options', 'bqsync maps each source type itself (DECIMAL to NUMERIC/BIGNUMERIC or STRING, never a float; DATETIME to DATETIME unshifted; TIMESTAMP to TIMESTAMP in UTC); no per-column type is needed');
  }
  if (input.default_timezone !== undefined || output.default_timezone !== undefined) {
    const side = input.default_timezone !== undefined ? 'in' : 'out';
    note([side, 'default_timezone'], 'changed', `default_timezone: ${str(obj(config[side]).default_timezone)}`,
      'bqsync never shifts wall-clock values: MySQL DATETIME / PostgreSQL timestamp land as BigQuery DATETIME as written, TIMESTAMP / timestamptz as instants in UTC; check queries that relied on the shift');
  }
  if (Array.isArray(output.column_options)) {
    output.column_options.forEach((c, i) => {
      const o = obj(c);
      note(['out', 'column_options', i], 'changed', `column_options: ${str(o.name)} ${str(o.type) ?? ''}${o.timezone ? ` timezone ${str(o.timezone)}` : ''}`.trim(),
        'bqsync picks the BigQuery type from the source column\'s type; cast in a SQL step if another type is needed');
    });
  }
  const HANDLED_IN = ['type', 'host', 'port', 'user', 'password', 'database', 'schema', 'table', 'query', 'where', 'select', 'incremental', 'incremental_columns', 'options', 'ssl', 'column_options', 'default_timezone', ...Object.keys(IGNORED_IN)];
  const HANDLED_OUT = ['type', 'mode', 'project', 'dataset', 'table', 'location', 'column_options', 'default_timezone', 'time_partitioning', 'clustering', 'merge_keys', ...Object.keys(IGNORED_OUT)];
  for (const [side, handled] of [['in', HANDLED_IN], ['out', HANDLED_OUT]] as const) {
    for (const key of Object.keys(obj(config[side]))) {
      if (!handled.includes(key)) note([side, key], 'unmapped', `${side}: ${key}`, 'an Embulk setting bqsync has no equivalent for; left out');
    }
  }
  if (config.filters !== undefined) note(['filters'], 'unmapped', 'filters:', 'Embulk filters are not applied; use columns: { exclude, hash, mask } for columns, or a SQL step for transformations');
  if (config.exec !== undefined) note(['exec'], 'changed', 'exec:', 'bqsync\'s limits are concurrency: per source and per pipeline');

  // The table: table: (+ where:), or a query: simple enough to be a table and a condition.
  let table = str(input.table);
  let where = str(input.where);
  let tableLine: (string | number)[] = ['in', 'table'];
  if (!table && input.query !== undefined) {
    tableLine = ['in', 'query'];
    const simple = simpleQuery(String(input.query));
    if (!simple) {
      note(tableLine, 'unmapped', `query: ${String(input.query).replace(/\s+/g, ' ').slice(0, 80)}`,
        'bqsync syncs tables, not queries: make this query a view at the source and sync the table it reads, or sync the tables and build it as a SQL step in BigQuery; not imported');
      return undefined;
    }
    table = simple.table;
    where = simple.where;
    if (simple.select !== '*') {
      note(tableLine, 'changed', `SELECT ${simple.select}`, 'bqsync reads every column; list the unwanted ones under columns: { exclude: [...] }');
    }
  } else if (input.select !== undefined && str(input.select)?.trim() !== '*') {
    note(['in', 'select'], 'changed', `select: ${str(input.select)}`, 'bqsync reads every column; list the unwanted ones under columns: { exclude: [...] }');
  }
  if (!table) {
    note(['in'], 'unmapped', 'in: without table: or query:', 'nothing to import');
    return undefined;
  }
  const at = y.where(...tableLine);
  const result: EmbulkTable = { file: rel, line: at.line, connection, table, mode: 'replace' };

  const outTable = str(output.table);
  if (outTable && /\{\{|\$/.test(outTable)) {
    note(['out', 'table'], 'changed', `table: ${outTable}`, 'a table per session (date suffix or $partition decorator) is not how bqsync loads: the rows land in one table named after the source table; partition it with partitionBy:');
  } else if (outTable && outTable !== table) result.destination = outTable;

  // Modes: Embulk's out mode, with in: incremental.
  const mode = str(output.mode) ?? 'append';
  const incremental = input.incremental === true || input.incremental === 'true';
  const columns = Array.isArray(input.incremental_columns) ? input.incremental_columns.map(String) : [];
  if (incremental && columns.length === 0) {
    note(['in', 'incremental'], 'changed', 'incremental: true without incremental_columns', 'Embulk used the primary key; set cursor: to that column and mode: append. Imported as replace');
  }
  if (columns.length > 1) {
    note(['in', 'incremental_columns'], 'changed', `incremental_columns: [${columns.join(', ')}]`, `bqsync's cursor is one column: ${columns[0]} is used; the others only broke ties in Embulk`);
  }
  const cursor = incremental ? columns[0] : undefined;
  switch (mode) {
    case 'replace':
    case 'replace_backup':
    case 'delete_in_advance':
    case 'truncate':
      if (mode !== 'replace') note(['out', 'mode'], 'changed', `mode: ${mode}`, 'mapped to replace: one atomic WRITE_TRUNCATE load (no backup table, no window without rows)');
      if (cursor) note(['in', 'incremental'], 'changed', 'incremental: with a replace mode', 'a replace reads the whole table; incremental: was left out');
      break;
    case 'append':
    case 'append_direct':
      if (cursor) {
        result.mode = 'append';
        result.cursor = cursor;
        note(['in', 'incremental_columns'], 'changed', `mode: ${mode}, incremental_columns: [${cursor}]`,
          'mapped to mode: append with cursor: (rows whose key is new are inserted once; Embulk appended changed rows again). Use mode: merge when rows change');
      } else {
        const guessed = where ? cursorInWhere(where) : undefined;
        if (guessed) {
          result.mode = 'append';
          result.cursor = guessed;
          note(['out', 'mode'], 'changed', `mode: ${mode} with where: on ${guessed}`, `mapped to mode: append with cursor: ${guessed} and the where: slice; check the key (default: the primary key)`);
        } else {
          note(['out', 'mode'], 'changed', `mode: ${mode} without incremental`, 'Embulk appended every row on every run; imported as replace (the whole table each run). Set mode: append with a cursor: to read new rows only');
          if (where) {
            note(['in', 'where'], 'changed', `where: ${where}`, 'left out: with replace it would shrink the table to the slice');
            where = undefined;
          }
        }
      }
      break;
    case 'merge':
      result.mode = cursor ? 'merge' : 'replace';
      result.cursor = cursor;
      if (Array.isArray(output.merge_keys)) result.key = output.merge_keys.map(String);
      if (!cursor) note(['out', 'mode'], 'changed', 'mode: merge without incremental', 'bqsync merges by a cursor: column; imported as replace. Set mode: merge and cursor:');
      break;
    default:
      note(['out', 'mode'], 'unmapped', `mode: ${mode}`, 'unknown output mode; imported as replace');
  }
  if (where) {
    try {
      whereCondition(where);
      result.where = where;
    } catch (err) {
      note(['in', input.where !== undefined ? 'where' : 'query'], 'unmapped', `where: ${where}`, `${(err as Error).message}; left out: add it as where: by hand`);
    }
  }
  const tp = obj(output.time_partitioning);
  if (tp.field) {
    const granularity = (str(tp.type)?.toUpperCase() ?? 'DAY') as EmbulkTable['partitionBy'] extends infer P ? P extends { granularity: infer G } ? G : never : never;
    result.partitionBy = { column: String(tp.field), granularity: ['HOUR', 'DAY', 'MONTH', 'YEAR'].includes(granularity) ? granularity : 'DAY' };
  } else if (output.time_partitioning !== undefined) {
    note(['out', 'time_partitioning'], 'unmapped', 'time_partitioning without field:', 'ingestion-time partitioning is not supported; partition by a column with partitionBy:');
  }
  const clustering = obj(output.clustering);
  if (Array.isArray(clustering.fields)) result.clusterBy = clustering.fields.map(String).slice(0, 4);
  return result;
}

/** `SELECT cols FROM table [WHERE cond]`, nothing more (no JOIN, GROUP, UNION, subquery): its parts. */
export function simpleQuery(sql: string): { select: string; table: string; where?: string } | undefined {
  const text = sql.trim().replace(/;\s*$/, '');
  const m = /^select\s+([\s\S]+?)\s+from\s+([`"]?)([A-Za-z_][A-Za-z0-9_$]*)\2(?:\s+(?:as\s+)?[A-Za-z_]\w*)?(?:\s+where\s+([\s\S]+))?$/i.exec(text);
  if (!m) return undefined;
  const where = m[4]?.trim();
  if (where && /\b(join|group\s+by|union|order\s+by|limit|having|select)\b/i.test(where)) return undefined;
  if (/\b(join|select)\b/i.test(m[1])) return undefined;
  return { select: m[1].trim(), table: m[3], where };
}

/** The column a slice condition bounds from below with a session value: `col >= {{session_date}}`. */
function cursorInWhere(where: string): string | undefined {
  return /([A-Za-z_][A-Za-z0-9_]*)\s*>=?\s*\{\{session_/.exec(where)?.[1];
}
