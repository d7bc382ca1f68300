/**
 * Ports and names of the test stack, apart from the demo stack so both can run at once.
 * BQSYNC_TEST_SLOT=N (1-9) moves ports and the test database aside, so that several
 * checkouts can run their tests on one machine without sharing a stack.
 */
const SLOT = Number(process.env.BQSYNC_TEST_SLOT ?? '0');
if (!Number.isInteger(SLOT) || SLOT < 0 || SLOT > 9) {
  throw new Error(`BQSYNC_TEST_SLOT must be a whole number from 0 to 9, not "${process.env.BQSYNC_TEST_SLOT}"`);
}
const port = (base: number) => String(base + SLOT * 100);

export const TEST_STACK = {
  BQSYNC_STACK: SLOT === 0 ? 'test' : `test${SLOT}`,
  BQSYNC_TEMPORAL_PORT: port(7244),
  BQSYNC_TEMPORAL_UI_PORT: port(8244),
  BQSYNC_BIGQUERY_PORT: port(9150),
  BQSYNC_BIGQUERY_GRPC_PORT: port(9160),
  BQSYNC_BIGQUERY_PROJECT: 'bqsync-test',
  BQSYNC_TEMPORAL_IN_MEMORY: '1',
};

export const TEMPORAL_UI_URL = `http://127.0.0.1:${TEST_STACK.BQSYNC_TEMPORAL_UI_PORT}`;
export const TEMPORAL_ADDRESS = `127.0.0.1:${TEST_STACK.BQSYNC_TEMPORAL_PORT}`;
export const BIGQUERY_ENDPOINT = `http://127.0.0.1:${TEST_STACK.BQSYNC_BIGQUERY_PORT}`;
/**
 * BQSYNC_REAL_BIGQUERY=<project> points the BigQuery side of the tests at a real project
 * (Application Default Credentials) instead of the emulator: scripts/test-bigquery.sh.
 */
export const REAL_BIGQUERY_PROJECT = process.env.BQSYNC_REAL_BIGQUERY || undefined;
export const ON_EMULATOR = REAL_BIGQUERY_PROJECT === undefined;
export const BIGQUERY_PROJECT = REAL_BIGQUERY_PROJECT ?? TEST_STACK.BQSYNC_BIGQUERY_PROJECT;
export const BIGQUERY_LOCATION = process.env.BQSYNC_REAL_BIGQUERY_LOCATION ?? 'US';
/** The seeded test database in MariaDB and PostgreSQL. */
export const TEST_DATABASE = SLOT === 0 ? 'bqsync_test' : `bqsync_test${SLOT}`;
export const MYSQL_URL = `mysql://root@127.0.0.1:3306/${TEST_DATABASE}`;
export const POSTGRES_URL = `postgres://postgres@127.0.0.1:5432/${TEST_DATABASE}`;
/** Tables per source in the test schema, and rows of its large table. */
export const TEST_TABLES = 124;
export const TEST_BIG_ROWS = 50_000;
