import type { SourceDriver } from '../driver';
import { PostgresConnection } from './connection';
import { classifyPostgresError, describePostgresError, quotePostgres } from './errors';

const DEFAULT_SCHEMA = 'public';

/** PostgreSQL (RDS, Aurora PostgreSQL, self-hosted). */
export const postgresDriver: SourceDriver = {
  label: 'PostgreSQL',
  defaultSchema: DEFAULT_SCHEMA,
  connect: (url, options = {}) => PostgresConnection.open(url, options.schema ?? DEFAULT_SCHEMA, options.connectTimeoutMs ?? 20_000, options.tls),
  quote: quotePostgres,
  classifyError: classifyPostgresError,
  describeError: describePostgresError,
};
