/**
 * A worker with bqsync's real workflows and activities, except that each table's data
 * activity (syncTable) is a stand-in that waits a fixed time and moves no data. It runs a
 * whole pipeline's orchestration (planning against the real sources, child workflows,
 * write locks, continue-as-new) at a scale the BigQuery emulator cannot take in the time.
 * `--workflow-bundle` runs another build's workflows (to compare two versions in one sitting).
 *   node dist/bench/stand-in-worker.js --config bqsync.yaml --activity-ms 2000 [--workflow-bundle file]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../config/load';
import { temporalConnectionOptions } from '../config/temporal-connection';
import type { TableSyncOutcome, TableTask } from '../common/payloads';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      'activity-ms': { type: 'string', default: '2000' },
      'workflow-bundle': { type: 'string', default: path.join(__dirname, '..', 'worker', 'workflow-bundle.js') },
    },
  });
  const loaded = loadConfig(values.config);
  const activityMs = Number(values['activity-ms']);
  const connection = await NativeConnection.connect(temporalConnectionOptions(loaded.config, loaded.file));
  const worker = await Worker.create({
    connection,
    namespace: loaded.config.temporal.namespace,
    taskQueue: loaded.config.temporal.taskQueue,
    workflowBundle: { codePath: path.resolve(values['workflow-bundle']!) },
    activities: {
      ...createActivities(loaded),
      syncTable: async (task: TableTask): Promise<TableSyncOutcome> => {
        await sleep(activityMs);
        return { rowsRead: 0, rowsLoaded: 0, bytesStaged: 0, nulledValues: {}, mode: task.mode };
      },
    },
  });
  const stop = () => worker.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
