/**
 * A source connection that broke while a table was read: killed by an administrator, the
 * server restarted, the network cut. Transient: the retry reads the table again from a
 * new connection; the message says what happened, for the operator reading the log.
 */
export class SourceConnectionLost extends Error {
  constructor(
    readonly table: string,
    readonly reason: string,
    /** What the operator can change when the engine knows the likely cause; absent: the generic advice. */
    readonly fix?: string,
  ) {
    super(`the connection to the database was lost while reading table ${table}: ${reason}`);
    this.name = 'SourceConnectionLost';
  }
}

/** Socket errors that mean the connection itself is gone, whatever the engine. */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

export function isSocketError(err: unknown): boolean {
  return SOCKET_CODES.has(String((err as { code?: unknown })?.code ?? ''));
}

export const errorCode = (err: unknown): string => String((err as { code?: unknown })?.code ?? '');
