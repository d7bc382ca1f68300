/** Ports and names of the test stack, apart from the demo stack so both can run at once. */
export const TEST_STACK = {
  BQSYNC_STACK: 'test',
  BQSYNC_TEMPORAL_PORT: '7244',
  BQSYNC_TEMPORAL_UI_PORT: '8244',
  BQSYNC_BIGQUERY_PORT: '9150',
  BQSYNC_BIGQUERY_GRPC_PORT: '9160',
  BQSYNC_BIGQUERY_PROJECT: 'bqsync-test',
  BQSYNC_TEMPORAL_IN_MEMORY: '1',
};

export const TEMPORAL_ADDRESS = `127.0.0.1:${TEST_STACK.BQSYNC_TEMPORAL_PORT}`;
export const BIGQUERY_ENDPOINT = `http://127.0.0.1:${TEST_STACK.BQSYNC_BIGQUERY_PORT}`;
export const BIGQUERY_PROJECT = TEST_STACK.BQSYNC_BIGQUERY_PROJECT;
/** The seeded test database in MariaDB and PostgreSQL. */
export const TEST_DATABASE = 'bqsync_test';
export const MYSQL_URL = `mysql://root@127.0.0.1:3306/${TEST_DATABASE}`;
export const POSTGRES_URL = `postgres://postgres@127.0.0.1:5432/${TEST_DATABASE}`;
/** Tables per source in the test schema, and rows of its large table. */
export const TEST_TABLES = 124;
export const TEST_BIG_ROWS = 50_000;
