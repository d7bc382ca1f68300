import { WorkflowFailedError } from '@temporalio/client';
import type { RunSummary } from '../common/payloads';

/** A failed run carries its summary in the failure's details. */
export function summaryFromFailure(err: unknown): RunSummary | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const details = (err.cause as { details?: unknown[] } | undefined)?.details;
  return details?.[0] as RunSummary | undefined;
}
