import { checkSnapshotId } from './snapshot-id';

/** The catalog queries of the PostgreSQL driver; `$n` are parameters, never spliced values. */

export const LIST_TABLES = `SELECT c.relname AS name FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY c.relname`;

export const DESCRIBE_COLUMNS = `SELECT a.attname AS name,
       CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END AS type_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS column_type,
       a.atttypmod AS typmod, a.attnotnull::text AS not_null,
       pg_catalog.col_description(c.oid, a.attnum) AS comment
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
 WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`;

export const PRIMARY_KEY = `SELECT a.attname AS name
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) ON true
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
 WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary
 ORDER BY k.pos`;

/** reltuples: the planner's estimate; -1 when never vacuumed or analysed (unknown). */
export const ESTIMATE_ROWS = `SELECT c.relname AS name, c.reltuples::bigint AS n FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2)`;

export const TABLE_COMMENT = `SELECT pg_catalog.obj_description(c.oid, 'pg_class') AS c FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`;

/** has_table_privilege takes a qualified name; format('%I.%I') quotes both parts. */
export const TABLES_WITHOUT_SELECT = `SELECT t AS name FROM unnest($2::text[]) AS t
 WHERE NOT (has_schema_privilege($1::text, 'USAGE') AND has_table_privilege(format('%I.%I', $1::text, t), 'SELECT'))`;

/**
 * The settings every value-bearing query runs under, set with SET LOCAL inside its own
 * transaction: behind PgBouncer in transaction pooling a session-level SET reaches whichever
 * server connection is free (and stays there for the next client), and a role's or
 * database's own settings must neither change the text of a value (bytea_output escape, a
 * zone, DateStyle SQL, extra_float_digits 0) nor cut a long read (the timeouts: a table
 * sync heartbeats, so a live read needs no server-side limit).
 */
const LOCAL_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'iso_8601'",
  "SET LOCAL bytea_output = 'hex'",
  'SET LOCAL extra_float_digits = 3',
  "SET LOCAL client_encoding = 'UTF8'",
  'SET LOCAL statement_timeout = 0',
  'SET LOCAL idle_in_transaction_session_timeout = 0',
  'SET LOCAL lock_timeout = 0',
];

/**
 * One snapshot for the whole read, so that the count verified is the count of one moment;
 * the settings right after BEGIN, in the same round trip (simple protocol, several statements).
 */
export const BEGIN_SNAPSHOT = ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', ...LOCAL_SETTINGS].join('; ');

/**
 * A read in the snapshot another session exported: SET TRANSACTION SNAPSHOT must come before
 * the transaction's first query, and takes no parameter (the ID is checked in snapshot-id.ts).
 */
export function beginInSnapshot(id: string): string {
  return ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', `SET TRANSACTION SNAPSHOT '${checkSnapshotId(id)}'`, ...LOCAL_SETTINGS].join('; ');
}

/** Marks the session that holds a shared snapshot in pg_stat_activity (its last query is one of these). */
export const SNAPSHOT_QUERY_TAG = '/* bqsync:snapshot */';

/** The exported snapshot's ID, and its horizons (xmin:xmax:xip) as text, which an importer compares. */
export const EXPORT_SNAPSHOT = `SELECT ${SNAPSHOT_QUERY_TAG} pg_catalog.pg_export_snapshot() AS id, pg_catalog.txid_current_snapshot()::text AS horizons`;
/** The holder's check that its transaction is still open. */
export const SNAPSHOT_HELD = `SELECT ${SNAPSHOT_QUERY_TAG} 1`;
export const SNAPSHOT_HORIZONS = 'SELECT pg_catalog.txid_current_snapshot()::text AS horizons';

/** The table's size in blocks of its main fork. $1 schema, $2 table. */
export const TABLE_BLOCKS = `SELECT pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::bigint AS blocks
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`;

/** The first tuple of a block, from a block number as text (the bigint cast refuses anything else). */
export const blockTid = (blockNumber: string) => `('(' || (${blockNumber})::bigint || ',0)')::tid`;

/** A short read-only transaction for the queries that return values (the cursor's statistics). */
export const BEGIN_SETTLED = ['BEGIN READ ONLY', ...LOCAL_SETTINGS].join('; ');

/** The settings that hold a read's bounds for the length of its transaction. */
export const BOUND_SETTING = { from: 'bqsync.from', below: 'bqsync.below' } as const;

/**
 * A COPY takes no parameters: a read's bounds go into settings of its own transaction
 * (set_config(..., true)), which the COPY's query reads back with current_setting, cast to
 * the column's type as a bound parameter would be typed: the base type of a domain, by its
 * quoted internal name, so no typmod applies (`"bpchar"`, not `character`, which is char(1)).
 * current_setting is stable, so an index on the column still serves the bounds.
 * $1 schema, $2 table, $3 column, $4 and $5 the values of `from` and `below` ('' when unused).
 */
export const BIND_BOUNDS = `WITH RECURSIVE base(oid, depth) AS (
  SELECT a.atttypid, 0 FROM pg_catalog.pg_attribute a
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT t.typbasetype, b.depth + 1 FROM pg_catalog.pg_type t JOIN base b ON t.oid = b.oid WHERE t.typtype = 'd'
)
SELECT pg_catalog.format('%I.%I', n.nspname, t.typname) AS type,
       pg_catalog.set_config('${BOUND_SETTING.from}', $4, true) AS from_set,
       pg_catalog.set_config('${BOUND_SETTING.below}', $5, true) AS below_set
  FROM base b JOIN pg_catalog.pg_type t ON t.oid = b.oid JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
 ORDER BY b.depth DESC LIMIT 1`;

/** Block bounds of a COPY, bound through the same settings. $1 and $2: block numbers ('' when unused). */
export const BIND_BLOCKS = `SELECT pg_catalog.set_config('${BOUND_SETTING.from}', $1, true) AS from_set,
       pg_catalog.set_config('${BOUND_SETTING.below}', $2, true) AS below_set`;
