import fs from 'node:fs/promises';

/**
 * Where the tests hold a block range before it reads, to change the source between two
 * ranges: with BQSYNC_PAUSE_RANGE=<n> and BQSYNC_PAUSE_FILE=<path> in a worker's environment,
 * range n (from 1) writes `<path>.waiting` and waits while `<path>` exists. Unset, it does nothing.
 */
export async function pausePoint(range: number, signal: AbortSignal): Promise<void> {
  const file = process.env.BQSYNC_PAUSE_FILE;
  if (!file || process.env.BQSYNC_PAUSE_RANGE !== String(range)) return;
  await fs.writeFile(`${file}.waiting`, '');
  while (await exists(file)) {
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, 100));
  }
}

const exists = (file: string) => fs.access(file).then(() => true, () => false);
