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

/** Fixed text formats, whatever the server's or the role's settings. */
export const SESSION_SETUP = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3";

/** One snapshot for the whole read, so that the count verified is the count of one moment. */
export const BEGIN_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
