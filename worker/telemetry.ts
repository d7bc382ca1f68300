import { LogLevel, Runtime } from '@temporalio/worker';
import type { LoadedConfig } from '../config/load';
import { LogFormat, makeLogger, makeRedactor } from './logging';
import { METRIC } from './metrics';

const TABLE_SYNC_BUCKETS_SECONDS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600];

export interface TelemetryOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Serve Prometheus metrics on 0.0.0.0:<port>/metrics; none when undefined. */
  metricsPort?: number;
}

/**
 * Installs the SDK runtime with bqsync's logger (JSON or text, secrets removed; the SDK
 * core's own logs forwarded into it) and the Prometheus exporter. Must run before any
 * NativeConnection or Worker exists.
 */
export function installTelemetry(loaded: LoadedConfig, options: TelemetryOptions): void {
  const logger = makeLogger(options.logLevel, options.logFormat, makeRedactor(loaded));
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { forward: {}, filter: { core: options.logLevel === 'TRACE' || options.logLevel === 'DEBUG' ? options.logLevel : 'WARN', other: 'ERROR' } },
      ...(options.metricsPort !== undefined && {
        metrics: {
          prometheus: {
            bindAddress: `0.0.0.0:${options.metricsPort}`,
            useSecondsForDurations: true,
            // A table sync takes seconds to hours; the default buckets stop at 10 s.
            histogramBucketOverrides: { [METRIC.duration]: TABLE_SYNC_BUCKETS_SECONDS },
          },
        },
      }),
    },
  });
}
