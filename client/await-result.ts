import { isGrpcServiceError, ServiceError } from '@temporalio/client';

/** How long a waiting command keeps trying to reach a Temporal server that went away. */
const PATIENCE_MS = 15 * 60_000;
const RETRY_EVERY_MS = 2_000;
// gRPC's status code UNAVAILABLE: the server is down or not reachable.
const UNAVAILABLE = 14;

/** True when the call failed because the Temporal server could not be reached. */
export function isTemporalUnreachable(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  return isGrpcServiceError(grpc) && grpc.code === UNAVAILABLE;
}

/**
 * Waits for a workflow's result through a restart of the Temporal server: the run lives
 * on in the server's history, so losing the connection is no reason to stop waiting. The
 * client's own retries cover a few seconds; this covers a restart that takes minutes.
 */
export async function resultThroughRestarts<T>(wait: () => Promise<T>, address: string): Promise<T> {
  let outageSince: number | undefined;
  let lastFailure = 0;
  for (;;) {
    try {
      return await wait();
    } catch (err) {
      if (!isTemporalUnreachable(err)) throw err;
      // A failure long after the last one is a new outage, with its own patience.
      if (Date.now() - lastFailure > 60_000) outageSince = undefined;
      lastFailure = Date.now();
      if (outageSince === undefined) {
        outageSince = Date.now();
        console.error(`lost the connection to Temporal at ${address}; waiting for it to come back (the run goes on)`);
      } else if (Date.now() - outageSince > PATIENCE_MS) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, RETRY_EVERY_MS));
    }
  }
}
