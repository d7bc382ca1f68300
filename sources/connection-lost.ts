/**
 * A source connection that broke while a table was read: killed by an administrator, the
 * server restarted, the network cut. Transient: the retry reads the table again from a
 * new connection; the message says what happened, for the operator reading the log.
 */
export class SourceConnectionLost extends Error {
  constructor(
    readonly table: string,
    readonly reason: string,
  ) {
    super(`the connection to the database was lost while reading table ${table}: ${reason}`);
    this.name = 'SourceConnectionLost';
  }
}

/** Socket errors and driver codes that mean the connection itself is gone. */
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST']);

/**
 * True when a query's error means the connection ended, not that the query was wrong:
 * PostgreSQL's SQLSTATE classes 08 (connection exception) and 57P (the server ended the
 * session: pg_terminate_backend, shutdown), or a socket error. A streamed query hears of
 * a terminated backend as a query error before the client does.
 */
export function isLostConnection(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return LOST_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || /Connection terminated/i.test(String((err as Error)?.message));
}
