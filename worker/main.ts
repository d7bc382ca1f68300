import { NativeConnection, Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { createActivities } from '../activities';
import { LoadedConfig } from '../config/load';

export interface WorkerOptions {
  /** How long running activities may go on after SIGTERM; keep it below the stop timeout. */
  shutdownGraceSeconds: number;
}

/** The workflow bundle made at build time, or the workflow sources when there is none. */
function workflowSource(): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const bundle = path.join(__dirname, 'workflow-bundle.js');
  if (fs.existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  return { workflowsPath: require.resolve('../workflows') };
}

/**
 * Runs a worker until SIGINT or SIGTERM. On the signal the worker stops polling and gives
 * running activities the grace period to finish; what is cut off is retried elsewhere
 * from its last heartbeat.
 */
export async function runWorker(loaded: LoadedConfig, options: WorkerOptions): Promise<void> {
  const { temporal } = loaded.config;
  const connection = await NativeConnection.connect({ address: temporal.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      ...workflowSource(),
      activities: createActivities(loaded),
      shutdownGraceTime: `${options.shutdownGraceSeconds}s`,
      // Heartbeats carry rows read; sent every 10 s (not 60) so `sync --wait` shows live progress.
      maxHeartbeatThrottleInterval: '10s',
    });
    await worker.run();
  } finally {
    await connection.close();
  }
}
