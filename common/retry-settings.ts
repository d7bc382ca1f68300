import type { RetryPolicy } from '@temporalio/common';
import type { RetrySetting } from './payloads';

/**
 * The defaults of a pipeline's `retry:` (its table syncs and their key ranges) and of a SQL
 * step's: what the config fills in, and what runs planned before `retry:` existed use.
 */
export const TABLE_RETRY_DEFAULTS: RetrySetting = { attempts: 4, initialInterval: '15s', maximumInterval: '10m' };
export const STEP_RETRY_DEFAULTS: RetrySetting = { attempts: 3, initialInterval: '10s', maximumInterval: '5m' };

/** A `retry:` as Temporal's policy: each wait twice the last, up to the longest. */
export function retryPolicy(setting: RetrySetting, nonRetryableErrorTypes: string[]): RetryPolicy {
  return {
    initialInterval: setting.initialInterval as RetryPolicy['initialInterval'],
    backoffCoefficient: 2,
    maximumInterval: setting.maximumInterval as RetryPolicy['maximumInterval'],
    maximumAttempts: setting.attempts,
    nonRetryableErrorTypes,
  };
}
