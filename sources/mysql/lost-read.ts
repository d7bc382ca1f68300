import { SourceConnectionLost } from '../connection-lost';
import { isNetWriteTimeout } from './errors';
import { NET_TIMEOUT_SECONDS } from './sql';

const SHORTER_READS = 'let the table load in key ranges (a single integer primary key and chunkRows below its row count), which makes each read shorter';

/**
 * A read whose connection ended under it, in words that name MySQL's net_write_timeout when
 * that is what cut it (error 1161) or may have (the server usually just closes the socket:
 * it cannot write; its log then says "Got timeout writing communication packets").
 * `longestPauseMs`: the longest time the read waited for the worker to take rows.
 */
export function lostRead(table: string, err: Error, longestPauseMs: number): SourceConnectionLost {
  const paused = `the read had paused for up to ${(longestPauseMs / 1000).toFixed(1)} s while the worker caught up`;
  if (isNetWriteTimeout(err)) {
    return new SourceConnectionLost(
      table,
      `${err.message}: the server's net_write_timeout passed while rows waited for the worker; ${paused}`,
      `A retry reads the table again. If it repeats, raise net_write_timeout on the source (bqsync sets ${NET_TIMEOUT_SECONDS} s for its own sessions; ` +
        `a proxy in between, or a server that ignores it, keeps a lower one), or ${SHORTER_READS}`,
    );
  }
  return new SourceConnectionLost(
    table,
    `${err.message}; ${paused}`,
    "A retry reads the table again; if it repeats, the database server's log says who ended the connection. If it says " +
      `"Got timeout writing communication packets", net_write_timeout cut the read while it waited for the worker: raise it on the source, or ${SHORTER_READS}`,
  );
}
