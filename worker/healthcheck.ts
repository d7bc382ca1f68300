/**
 * The container health check: exits 0 when the worker's health file is fresh and says
 * RUNNING, 1 otherwise (with the reason on stderr). Plain node, no CLI start-up cost.
 *   node dist/worker/healthcheck.js [file]   (default $BQSYNC_HEALTH_FILE)
 */
import { HEALTH_INTERVAL_MS, healthProblem } from './health';

const file = process.argv[2] ?? process.env.BQSYNC_HEALTH_FILE;
if (!file) {
  console.error('no health file: pass its path or set BQSYNC_HEALTH_FILE');
  process.exit(1);
}
// Three missed writes: a busy event loop may delay one.
const problem = healthProblem(file, 3 * HEALTH_INTERVAL_MS + 5_000);
if (problem) {
  console.error(problem);
  process.exit(1);
}
