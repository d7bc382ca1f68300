import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';

/** How often a running worker rewrites its health file. */
export const HEALTH_INTERVAL_MS = 10_000;

export interface HealthRecord {
  state: string;
  pid: number;
  time: string;
}

/**
 * Writes the worker's state to a file every few seconds while it runs, for the container
 * health check (worker/healthcheck.ts). A stale file means a stuck event loop or a dead
 * worker; a state other than RUNNING means it is shutting down or failed.
 */
export function writeHealthFile(
  worker: Pick<Worker, 'getState'>,
  file: string,
  warn: (message: string) => void,
  intervalMs = HEALTH_INTERVAL_MS,
): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let lastState = '';
  let lastWrite = 0;
  let failing: string | undefined;
  const tick = () => {
    const state = worker.getState();
    if (state === lastState && Date.now() - lastWrite < intervalMs) return;
    const record: HealthRecord = { state, pid: process.pid, time: new Date().toISOString() };
    try {
      // Write then rename, so that the check never reads half a file.
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
      fs.renameSync(`${file}.tmp`, file);
    } catch (err) {
      // A full disk must not end the worker and every sync on it: the file ages instead,
      // and the check reports it if the disk stays full. Said once, not every second.
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (failing !== code) warn(`the health file ${file} could not be written (${code}); the worker goes on, the health check will see the file age`);
      failing = code;
      return;
    }
    if (failing) warn(`the health file ${file} is written again`);
    failing = undefined;
    lastState = state;
    lastWrite = Date.now();
  };
  tick();
  // Checked every second so that a change of state shows at once; written when it changes or ages.
  const timer = setInterval(tick, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    fs.rmSync(file, { force: true });
  };
}

/** Why the worker is not healthy, or undefined when it is. */
export function healthProblem(file: string, maxAgeMs: number, now = Date.now()): string | undefined {
  let record: HealthRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as HealthRecord;
  } catch (err) {
    return `no health file at ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): the worker has not started, or has stopped`;
  }
  const age = now - Date.parse(record.time);
  if (!(age <= maxAgeMs)) return `health file ${file} is ${Math.round(age / 1000)} s old (limit ${maxAgeMs / 1000} s): the worker is stuck or dead`;
  if (record.state !== 'RUNNING') return `worker state is ${record.state}, not RUNNING`;
  return undefined;
}
