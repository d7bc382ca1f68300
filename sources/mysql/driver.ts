import type { SourceDriver } from '../driver';
import { MysqlConnection } from './connection';
import { classifyMysqlError, describeMysqlError, quoteMysql } from './errors';

/** MySQL 8 / Aurora MySQL and MariaDB. */
export const mysqlDriver: SourceDriver = {
  label: 'MySQL',
  defaultSchema: undefined,
  connect: (url, options = {}) => MysqlConnection.open(url, options.schema, options.connectTimeoutMs ?? 20_000, options.tls),
  quote: quoteMysql,
  classifyError: classifyMysqlError,
  describeError: describeMysqlError,
};
