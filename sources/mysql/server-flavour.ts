/** MySQL (5.7, 8.0, Aurora MySQL 2 and 3) or MariaDB: their session variables and catalogs differ. */
export type MysqlFlavour = 'mysql' | 'mariadb';

export interface MysqlServer {
  flavour: MysqlFlavour;
  /** Major, minor and patch of `@@version`; zeros where it does not say. */
  version: [number, number, number];
}

/**
 * From `@@version`: MariaDB's says so (`10.11.6-MariaDB-0+deb12u1`); MySQL's and Aurora
 * MySQL's do not (`8.0.36`, `5.7.44-log`).
 */
export function mysqlServer(version: string): MysqlServer {
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  return { flavour: /mariadb/i.test(version) ? 'mariadb' : 'mysql', version: [major, minor, patch] };
}

/** True when the server's version is at least the one given. */
export function atLeast(server: MysqlServer, ...wanted: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (server.version[i] !== wanted[i]) return server.version[i] > wanted[i];
  return true;
}
