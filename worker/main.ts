import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { closeEncodeThreads, createActivities, defaultEncodeThreads } from '../activities';
import { LoadedConfig } from '../config/load';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { activitySlotsWarning } from './activity-slots';
import { writeHealthFile } from './health';
import { tableSyncTelemetry } from './metrics';
import { DEFAULT_PROTECTION, protectWhileRunning, taskProtection } from './task-protection';
import { installTelemetry, TelemetryOptions } from './telemetry';

export interface WorkerOptions extends TelemetryOptions {
  /** How long running activities may go on after SIGTERM; keep it below the stop timeout. */
  shutdownGraceSeconds: number;
  /** Where to write the health file for the container's health check; none when undefined. */
  healthFile?: string;
  /** Seconds without running activities before ECS scale-in protection is cleared. */
  scaleInIdleSeconds?: number;
  /** At most this many bytes of staged files at once across the worker's table syncs; no limit when undefined. */
  stagingBudgetBytes?: number;
  /** Activities at once on this worker (each key range of a table is one); the SDK's default when undefined. */
  maxActivities?: number;
  /** Threads that decode and encode row text (activities/table-sync/encode-pool.ts); defaultEncodeThreads() when undefined. */
  encodeThreads?: number;
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
  installTelemetry(loaded, options);
  const { temporal } = loaded.config;
  const connection = await NativeConnection.connect(temporalConnectionOptions(loaded.config, loaded.file));
  const { logger } = Runtime.instance();
  const slots = activitySlotsWarning(options.maxActivities);
  if (slots) logger.warn(slots);
  const protection = taskProtection({
    ...DEFAULT_PROTECTION,
    ...(options.scaleInIdleSeconds !== undefined && { idleMs: options.scaleInIdleSeconds * 1000 }),
    // Set by the ECS agent in every container of a task; absent locally.
    agentUri: process.env.ECS_AGENT_URI,
    warn: (message) => logger.warn(message),
    info: (message) => logger.info(message),
  });
  let stopHealth = () => {};
  try {
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      ...workflowSource(),
      activities: createActivities(loaded, {
        stagingBudgetBytes: options.stagingBudgetBytes,
        encodeThreads: options.encodeThreads ?? defaultEncodeThreads(),
      }),
      interceptors: { activity: [tableSyncTelemetry, protectWhileRunning(protection)] },
      shutdownGraceTime: `${options.shutdownGraceSeconds}s`,
      // Heartbeats carry rows read; sent every 10 s (not 60) so `sync --wait` shows live progress.
      maxHeartbeatThrottleInterval: '10s',
      ...(options.maxActivities !== undefined && { maxConcurrentActivityTaskExecutions: options.maxActivities }),
    });
    const running = worker.run();
    if (options.healthFile) stopHealth = writeHealthFile(worker, options.healthFile, (message) => logger.warn(message));
    await running;
  } finally {
    stopHealth();
    await closeEncodeThreads();
    await protection.close();
    await connection.close();
  }
}
