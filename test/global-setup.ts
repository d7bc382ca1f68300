import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { seed } from '../demo/seed';
import { MYSQL_URL, POSTGRES_URL, TEST_BIG_ROWS, TEST_DATABASE, TEST_STACK, TEST_TABLES } from './helpers/env';

/**
 * Starts the test stack (own Temporal dev server and emulator) and seeds the test schema.
 * Always a fresh stack: one left up by an aborted run would hold that run's workflows and
 * a slowed-down emulator.
 */
export default async function globalSetup(): Promise<void> {
  const root = path.join(__dirname, '..');
  execFileSync('bash', [path.join(root, 'scripts/stack.sh'), 'restart'], {
    env: { ...process.env, ...TEST_STACK },
    stdio: 'inherit',
  });
  await seed({
    database: TEST_DATABASE,
    tables: TEST_TABLES,
    bigRows: TEST_BIG_ROWS,
    mysqlUrl: MYSQL_URL.replace(/[^/]*$/, ''),
    postgresUrl: POSTGRES_URL,
  });
}
