import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { TEST_STACK } from './helpers/env';

/** Stops the test stack; BQSYNC_KEEP_STACK=1 keeps it up to look at afterwards. */
export default async function globalTeardown(): Promise<void> {
  if (process.env.BQSYNC_KEEP_STACK === '1') return;
  execFileSync('bash', [path.join(__dirname, '..', 'scripts/stack.sh'), 'down'], {
    env: { ...process.env, ...TEST_STACK },
    stdio: 'inherit',
  });
}
