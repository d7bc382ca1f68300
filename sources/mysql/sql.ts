/** The catalog queries of the MySQL/MariaDB driver; `?` are parameters, never spliced values. */
import { atLeast, MysqlServer } from './server-flavour';

export const LIST_TABLES =
  "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME";

export const DESCRIBE_COLUMNS = `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
       NUMERIC_PRECISION AS numPrecision,
       NUMERIC_SCALE AS numScale, IS_NULLABLE AS nullable, COLUMN_COMMENT AS comment
  FROM information_schema.COLUMNS
 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
 ORDER BY ORDINAL_POSITION`;

/** MariaDB stores JSON as LONGTEXT with a json_valid(`col`) check constraint (MySQL's view has no TABLE_NAME). */
export const CHECK_CONSTRAINTS =
  'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?';

export const PRIMARY_KEY = `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`;

/** TABLE_ROWS: InnoDB's estimate, NULL for views. */
export const ESTIMATE_ROWS = 'SELECT TABLE_NAME AS name, TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?)';

export const TABLE_COMMENT = 'SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?';

/** The server's version (which says MySQL or MariaDB) and the URL's database, in one round trip. */
export const SERVER_AND_DATABASE = 'SELECT @@version AS version, DATABASE() AS db';

/**
 * How long the server waits to send rows to a client that does not take them, or for one
 * that sends nothing, before it ends the connection. A streamed read pauses while the
 * worker's staging budget or disk makes it wait; managed servers' 30 to 60 s defaults
 * (net_write_timeout, net_read_timeout) would cut it there.
 */
export const NET_TIMEOUT_SECONDS = 3600;

/**
 * sql_mode for the session: none of the modes that change what a SELECT returns or how it
 * parses (PAD_CHAR_TO_FULL_LENGTH pads CHAR values, ANSI_QUOTES and NO_BACKSLASH_ESCAPES
 * change quoting, PIPES_AS_CONCAT `||`), whatever the server's or the role's default is.
 * Valid on MySQL 8 and MariaDB alike.
 */
export const SQL_MODE = 'NO_ENGINE_SUBSTITUTION';

/**
 * The session every connection gets, set at once after connecting:
 * - time_zone UTC: TIMESTAMP values come out in UTC whatever the server's zone;
 * - sql_mode: above; net_write_timeout / net_read_timeout: above;
 * - no time limit on statements: MySQL's max_execution_time (milliseconds, SELECTs; from
 *   5.7.8), MariaDB's max_statement_time (seconds); each server lacks the other's variable;
 * - MySQL 8 only (8.0.3): information_schema_stats_expiry 0, so that TABLE_ROWS (the estimate
 *   that decides key ranges and the ETA) is the engine's current one, not a copy up to a day old.
 * A variable the server lacks would fail the whole SET, so each is named only where it exists.
 */
export function sessionSetup(server: MysqlServer): string {
  const settings = [
    "time_zone = '+00:00'",
    `sql_mode = '${SQL_MODE}'`,
    `net_write_timeout = ${NET_TIMEOUT_SECONDS}`,
    `net_read_timeout = ${NET_TIMEOUT_SECONDS}`,
  ];
  if (server.flavour === 'mariadb') settings.push('max_statement_time = 0');
  else {
    if (atLeast(server, 5, 7, 8)) settings.push('max_execution_time = 0');
    if (atLeast(server, 8, 0, 3)) settings.push('information_schema_stats_expiry = 0');
  }
  return `SET ${settings.join(', ')}`;
}

/** A consistent snapshot, so that the count verified is the count of one moment. */
export const BEGIN_SNAPSHOT = 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY';
