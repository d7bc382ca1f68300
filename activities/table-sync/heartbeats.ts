import { Context } from '@temporalio/activity';

/** What a heartbeat carries: the stage, and how far it got (`range`: the key range, from 1). */
export interface Progress {
  phase: string;
  rows: number;
  bytes: number;
  range?: number;
}

export interface Heartbeats {
  /** Records the latest progress and sends it (the SDK throttles what reaches the server). */
  beat(progress: Progress): void;
  /** Sends the latest progress again. */
  again(): void;
  stop(): void;
}

/**
 * Heartbeats on a timer for the whole sync, whatever it is doing: a scan that waits for a
 * lock, a slow metadata query or a long upload produce nothing to report, and without a
 * heartbeat Temporal would take the table for lost after the heartbeat timeout and start
 * another attempt beside this one. A quarter of the timeout, at most every 10 s.
 */
export function startHeartbeats(): Heartbeats {
  const ctx = Context.current();
  let latest: Progress = { phase: 'plan', rows: 0, bytes: 0 };
  const every = Math.max(250, Math.min(10_000, (ctx.info.heartbeatTimeoutMs ?? 120_000) / 4));
  const timer = setInterval(() => ctx.heartbeat(latest), every);
  timer.unref();
  ctx.heartbeat(latest);
  return {
    beat(progress: Progress): void {
      latest = progress;
      ctx.heartbeat(progress);
    },
    again: () => ctx.heartbeat(latest),
    stop: () => clearInterval(timer),
  };
}
