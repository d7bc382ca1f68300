/** The catalog queries of the MySQL/MariaDB driver; `?` are parameters, never spliced values. */

export const LIST_TABLES =
  "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME";

export const DESCRIBE_COLUMNS = `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
       NUMERIC_PRECISION AS numPrecision,
       NUMERIC_SCALE AS numScale, IS_NULLABLE AS nullable, COLUMN_COMMENT AS comment
  FROM information_schema.COLUMNS
 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
 ORDER BY ORDINAL_POSITION`;

/** MariaDB stores JSON as LONGTEXT with a json_valid(`col`) check constraint. */
export const CHECK_CONSTRAINTS =
  'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?';

export const PRIMARY_KEY = `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`;

/** TABLE_ROWS: InnoDB's estimate, NULL for views. */
export const ESTIMATE_ROWS = 'SELECT TABLE_NAME AS name, TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?)';

export const TABLE_COMMENT = 'SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?';

/** TIMESTAMP values come out in UTC whatever the server's zone. */
export const SESSION_SETUP = "SET time_zone = '+00:00'";

/** A consistent snapshot, so that the count verified is the count of one moment. */
export const BEGIN_SNAPSHOT = 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY';
