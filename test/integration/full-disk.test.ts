/**
 * Full disks, for real: the worker's staging directory (TMPDIR) and its health file each sit
 * on a small tmpfs that the test mounts (root is needed to mount; the test fails saying so
 * without it). The staging tmpfs (1 MiB) cannot hold the large table's staged file (about
 * 2 MB); the health tmpfs is filled to the last byte while the worker runs.
 *
 * Proves: the large table's attempt fails with a message that names the table, the
 * directory and the fixes, as a retryable StagingDiskFull; the small tables of the same run
 * sync meanwhile; once the disk is larger (the tmpfs remounted at 8 MiB) the retry loads
 * exactly the source's rows. A health file that cannot be written leaves the worker
 * running (same process), with one warning in its log.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_DATABASE } from '../helpers/env';
import {
  CliResult,
  eventually,
  mysqlConnection,
  mysqlSource,
  postgresSource,
  runCli,
  RunningWorker,
  startWorker,
  temporalClient,
  testConfig,
  writeConfig,
} from '../helpers/harness';
import { expectSameRowsAsMysql, expectSameRowsAsPostgres } from '../helpers/same-rows';
import { createSmallTables } from '../helpers/source-tables';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), `bqsync-full-disk-${TEST_DATABASE}-`));
const STAGING = path.join(ROOT, 'staging');
const HEALTH = path.join(ROOT, 'health');
const BIG = 'x_disk_big';
const BIG_ROWS = 20_000;
const SMALL = ['x_disk_s1', 'x_disk_s2'];

function mountTmpfs(dir: string, size: string): void {
  fs.mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`this test mounts a small tmpfs to fill it, which needs root: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? err}`);
  }
}

const unmount = (dir: string) => {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
};

/** Writes into `dir` until the file system refuses (ENOSPC); returns the filler's path. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(4096));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

/** The message of the last failed attempt of the table's sync while it waits for its retry. */
async function lastAttemptFailure(table: string): Promise<string | undefined> {
  const client = await temporalClient();
  try {
    for await (const wf of client.workflow.list({ query: `BqsyncTable = '${table}' AND ExecutionStatus = 'Running'` })) {
      const described = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
      const failure = described.raw.pendingActivities?.[0]?.lastFailure;
      if (failure?.message) return `${failure.applicationFailureInfo?.type ?? ''}: ${failure.message}`;
    }
    return undefined;
  } finally {
    await client.connection.close();
  }
}

let worker: RunningWorker;
let file: string;

beforeAll(async () => {
  mountTmpfs(STAGING, '1m');
  mountTmpfs(HEALTH, '64k');
  await createSmallTables(SMALL, 10);
  const my = await mysqlConnection();
  try {
    await my.query(`DROP TABLE IF EXISTS ${BIG}`);
    await my.query(`CREATE TABLE ${BIG} (id INT PRIMARY KEY, label VARCHAR(100))`);
    await my.query(`INSERT INTO ${BIG} SELECT seq, CONCAT('row ', seq, ' ', REPEAT('x', 80)) FROM seq_1_to_${BIG_ROWS}`);
  } finally {
    await my.end();
  }
  file = writeConfig(
    testConfig(
      'it-fulldisk',
      {
        shop: mysqlSource('it_fulldisk_shop', { tables: [BIG] }),
        billing: postgresSource('it_fulldisk_billing', { tables: SMALL }),
      },
      { itfulldisk: { sources: ['shop', 'billing'] } },
    ),
  );
  worker = await startWorker(file, { TMPDIR: STAGING, BQSYNC_HEALTH_FILE: path.join(HEALTH, 'worker.health') });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  unmount(STAGING);
  unmount(HEALTH);
  fs.rmSync(ROOT, { recursive: true, force: true });
  const my = await mysqlConnection();
  await my.query(`DROP TABLE IF EXISTS ${BIG}`);
  await my.end();
});

describe('full disks', () => {
  test('a staging disk too small for a table fails that table with a clear message; the others sync; more disk, and the retry lands it', async () => {
    const run: Promise<CliResult> = runCli(['--config', file, 'run', 'itfulldisk', '--wait']);
    const message = await eventually(() => lastAttemptFailure(`shop.${BIG}`), 60_000, 'the failed first attempt');
    expect(message).toBe(
      `StagingDiskFull: shop.${BIG}: the staging directory ${STAGING} ran out of space (ENOSPC) in attempt 1; ` +
        "the table's staged files were removed and it is retried. If it repeats: free space there, give the worker more disk " +
        '(ephemeralStorageGiB on Fargate), or set BQSYNC_STAGING_BUDGET_BYTES below the free space so that fewer tables stage at once',
    );
    expect(worker.process.exitCode).toBeNull(); // the same worker process goes on
    // More disk before the retry (15 s after the failure).
    execFileSync('mount', ['-o', 'remount,size=8m', STAGING]);
    const result = await run;
    expect(result.stdout).toContain('pipeline itfulldisk: 3 succeeded, 0 failed, 0 skipped');
    expect(await expectSameRowsAsMysql(BIG, 'it_fulldisk_shop', ['id', 'label'])).toBe(BIG_ROWS);
    for (const t of SMALL) expect(await expectSameRowsAsPostgres(t, 'it_fulldisk_billing', ['id', 'label'])).toBe(10);
    // Every sync's directory went with it, the failed attempt's included.
    expect(fs.readdirSync(STAGING).filter((name) => name.startsWith('bqsync-'))).toEqual([]);
  }, 240_000);

  test('a health file on a full disk does not end the worker, which says so once and goes on syncing', async () => {
    const healthFile = path.join(HEALTH, 'worker.health');
    expect(fs.existsSync(healthFile)).toBe(true);
    const filler = fill(HEALTH);
    // The file is rewritten every 10 s (HEALTH_INTERVAL_MS): after 21 s, two rewrites have met the full disk.
    await new Promise((r) => setTimeout(r, 21_000));
    if (worker.process.exitCode !== null) throw new Error(`the worker exited with code ${worker.process.exitCode}:\n${worker.output().slice(-1500)}`);
    expect(worker.output()).toContain(`the health file ${healthFile} could not be written (ENOSPC)`);
    expect(worker.output().split('could not be written (ENOSPC)').length - 1).toBe(1);
    const again = await runCli(['--config', file, 'run', 'itfulldisk', '--wait']);
    expect(again.stdout).toContain('pipeline itfulldisk: 3 succeeded, 0 failed, 0 skipped');
    fs.rmSync(filler);
    await eventually(() => worker.output().includes(`the health file ${healthFile} is written again`), 30_000, 'the health file written again');
  }, 180_000);
});
