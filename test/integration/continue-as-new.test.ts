/**
 * A run that continues as new while one table is held in its extraction: the other tables
 * keep flowing and "sync now" is accepted across the handover (the threshold is lowered).
 */
import { createSmallTables, lockTables } from '../helpers/source-tables';
import { bqCount, eventually, mysqlSource, runCli, RunningWorker, startWorker, temporalClient, testConfig, writeConfig } from '../helpers/harness';
import { expectSameRowsAsMysql } from '../helpers/same-rows';
import { nightlySync, statusQuery } from '../../workflows';
import { searchAttributes } from '../../common/search-attributes';
import type { RunSummary } from '../../common/payloads';

const QUICK = ['x_can_1', 'x_can_2', 'x_can_3', 'x_can_4'];
const config = testConfig(
  'it-can',
  { shop: mysqlSource('it_can_shop', { tables: ['x_can_long', ...QUICK], concurrency: 2 }) },
  { itcan: { sources: ['shop'], concurrency: 2 } },
);

let worker: RunningWorker;

afterAll(async () => {
  await worker?.stop();
});

describe('continue-as-new stalls the run', () => {
  test('a held table does not stop the others, and "sync now" is accepted across the handover', async () => {
    await createSmallTables(['x_can_long', ...QUICK], 40);
    const file = writeConfig(config);
    worker = await startWorker(file);
    const client = await temporalClient();
    const unlock = await lockTables(['x_can_long'], { mysql: true });
    try {
      await client.workflow.start(nightlySync, {
        workflowId: 'bqsync-itcan',
        taskQueue: 'it-can',
        args: [{ pipeline: 'itcan', continueAsNewAfter: 2 }],
        typedSearchAttributes: [{ key: searchAttributes.pipeline, value: 'itcan' }],
      });
      const status = () => client.workflow.getHandle('bqsync-itcan').query(statusQuery);
      const statusOf = async (key: string) => (await status()).results.find((r) => r.key === key)?.status;
      for (const t of QUICK) await eventually(async () => (await statusOf(`shop.${t}`)) === 'succeeded', 120_000, `${t} to land while x_can_long is held`);
      expect(await statusOf('shop.x_can_long')).toBe('running');
      expect((await client.workflow.count(`WorkflowId = 'bqsync-itcan'`)).count).toBeGreaterThan(1);

      const sync = await runCli(['--config', file, 'sync', 'shop.x_can_1']);
      expect(sync.stdout).toContain('shop.x_can_1: queued');
      await eventually(async () => (await status()).results.find((r) => r.key === 'shop.x_can_1' && r.runs === 2 && r.status === 'succeeded'), 120_000, 'x_can_1 to run again');
      expect(await statusOf('shop.x_can_long')).toBe('running');
      await unlock();

      const summary: RunSummary = await client.workflow.getHandle('bqsync-itcan').result();
      expect(summary).toMatchObject({ succeeded: 5, failed: 0, skipped: 0 });
      expect(summary.results.find((r) => r.key === 'shop.x_can_long')).toMatchObject({ status: 'succeeded', runs: 1, rowsLoaded: 40 });
    } finally {
      await unlock().catch(() => undefined);
      await client.connection.close();
    }
    expect(await expectSameRowsAsMysql('x_can_long', 'it_can_shop', ['id', 'label'])).toBe(40);
    for (const t of QUICK) expect(await bqCount('it_can_shop', t)).toBe(40);
  });
});
