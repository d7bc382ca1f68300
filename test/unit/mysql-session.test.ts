import { mysqlServer } from '../../sources/mysql/server-flavour';
import { sessionSetup } from '../../sources/mysql/sql';

const common = "SET time_zone = '+00:00', sql_mode = 'NO_ENGINE_SUBSTITUTION', net_write_timeout = 3600, net_read_timeout = 3600";

test('the session names only variables the server has: a SET with an unknown one would fail the connection', () => {
  expect(sessionSetup(mysqlServer('10.11.6-MariaDB-0+deb12u1'))).toBe(`${common}, max_statement_time = 0`);
  expect(sessionSetup(mysqlServer('8.0.36'))).toBe(`${common}, max_execution_time = 0, information_schema_stats_expiry = 0`);
  expect(sessionSetup(mysqlServer('8.4.3'))).toBe(`${common}, max_execution_time = 0, information_schema_stats_expiry = 0`);
  // Aurora MySQL 2 and RDS MySQL 5.7: no information_schema_stats_expiry (8.0.3).
  expect(sessionSetup(mysqlServer('5.7.44-log'))).toBe(`${common}, max_execution_time = 0`);
  // Before 5.7.8 MySQL had no max_execution_time.
  expect(sessionSetup(mysqlServer('5.6.51'))).toBe(common);
});
