import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ON_EMULATOR, TEST_STACK } from './env';

/**
 * Each integration file starts on an empty emulator. It keeps every table, job and query
 * result in memory and answers slower the more it holds (a 3-row load: 1 s empty, 15 s
 * after about 190 tables), so a shard's later files would otherwise pay for the earlier
 * ones. Files share nothing in BigQuery; the databases and Temporal stay up.
 */
beforeAll(() => {
  if (!ON_EMULATOR) return;
  try {
    execFileSync('bash', [path.join(__dirname, '../../scripts/stack.sh'), 'restart-emulator'], {
      env: { ...process.env, ...TEST_STACK },
      stdio: 'pipe',
      timeout: 90_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`the test stack's BigQuery emulator did not restart: ${stderr || (err as Error).message}`);
  }
}, 120_000);
