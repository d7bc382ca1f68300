import { createSmallTables } from '../helpers/source-tables';
import { bqCount, mysqlSource, runCli, startWorker, testConfig, writeConfig } from '../helpers/harness';

const config = testConfig('it-worker', { shop: mysqlSource('it_worker_shop', { tables: ['x_wk_1'] }) }, { itworker: { sources: ['shop'] } });

test('a worker stops polling and exits cleanly on SIGTERM', async () => {
  await createSmallTables(['x_wk_1'], 5);
  const file = writeConfig(config);
  const worker = await startWorker(file, { BQSYNC_SHUTDOWN_GRACE_SECONDS: '5' });
  const began = Date.now();
  const code = await worker.stop('SIGTERM');
  expect(code).toBe(0);
  expect(Date.now() - began).toBeLessThan(10_000);
  expect(worker.output()).toMatch(/state: 'STOPPED'/);

});

test('a run started with no worker says so, waits, and is done by the worker that comes later', async () => {
  await createSmallTables(['x_wk_1'], 5);
  const file = writeConfig({ ...config, temporal: { ...(config as { temporal: object }).temporal, taskQueue: 'it-worker-late' } });
  const run = runCli(['--config', file, 'run', 'itworker', '--wait']);
  await new Promise((r) => setTimeout(r, 1500));
  const next = await startWorker(file);
  const result = await run;
  await next.stop();
  expect(result.stderr).toContain('warning: no worker polls task queue "it-worker-late"');
  expect(result.code).toBe(0);
  expect(await bqCount('it_worker_shop', 'x_wk_1')).toBe(5);
});
