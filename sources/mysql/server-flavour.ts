/** MySQL (8.0, Aurora MySQL 3) or MariaDB: their session variables and catalogs differ. */
export type MysqlFlavour = 'mysql' | 'mariadb';

/** From `@@version`: MariaDB's says so (`10.11.6-MariaDB-0+deb12u1`); MySQL's and Aurora MySQL's do not (`8.0.36`). */
export function mysqlFlavour(version: string): MysqlFlavour {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}
