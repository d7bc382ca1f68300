import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { TEST_STACK } from './helpers/env';

export default async function globalTeardown(): Promise<void> {
  execFileSync('bash', [path.join(__dirname, '..', 'scripts/stack.sh'), 'down'], {
    env: { ...process.env, ...TEST_STACK },
    stdio: 'inherit',
  });
}
