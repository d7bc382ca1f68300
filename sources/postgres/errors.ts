import { errorCode, isSocketError } from '../connection-lost';
import { checkIdentifier, SourceErrorKind } from '../driver';
import { valueFreeMessage } from '../value-free';

/** PostgreSQL identifiers are quoted with double quotes, an inner quote doubled. */
export function quotePostgres(identifier: string): string {
  return '"' + checkIdentifier(identifier).replace(/"/g, '""') + '"';
}

/** SQLSTATEs of a refused login (28000, 28P01) or a database that does not exist (3D000). */
const AUTH_STATES = new Set(['28000', '28P01', '3D000']);

/**
 * The connection ended, as opposed to the query being wrong: SQLSTATE classes 08 (connection
 * exception) and 57P (the server ended the session: pg_terminate_backend, shutdown), or a
 * socket error. A streamed query hears of a terminated backend as a query error first.
 */
export function isLostPostgresConnection(err: unknown): boolean {
  const code = errorCode(err);
  return isSocketError(err) || code.startsWith('08') || code.startsWith('57P') || /Connection terminated/i.test(String((err as Error)?.message));
}

/** Why the server cancelled a read, and what to change; for the cancellations a retry may get past. */
export interface ReadCancellation {
  reason: string;
  fix: string;
  /** Smaller key ranges (chunkRows) make each read shorter, and so less likely to be cancelled. */
  shorterReads: boolean;
}

/**
 * A read the server ended on purpose: a recovery conflict on a hot standby (SQLSTATE 40001:
 * the standby replays a VACUUM of rows the read's snapshot still needs, after waiting
 * max_standby_streaming_delay), or a timeout set on the role or database. The read's own
 * transaction sets statement_timeout and idle_in_transaction_session_timeout to 0 (sql.ts),
 * so those two reach only the queries outside it, or a server that ignores SET LOCAL.
 */
export function readCancellation(err: unknown): ReadCancellation | undefined {
  const code = errorCode(err);
  const message = String((err as Error)?.message ?? '');
  const reason = describePostgresError(err);
  if (code === '40001' && /recovery/i.test(message)) {
    return {
      reason,
      fix:
        'the hot standby replayed changes from the primary (a VACUUM, say) that the read still needed; on the standby, raise ' +
        'max_standby_streaming_delay above the longest table read (-1: wait as long as a read takes, at the cost of replica lag), or set ' +
        'hot_standby_feedback = on (the primary then keeps those rows for the read, at the cost of table bloat there)',
      shorterReads: true,
    };
  }
  if (code === '57014' && /statement timeout/i.test(message)) {
    return {
      reason,
      fix: "the statement_timeout of the source's user or database cut a query; raise it for that user (ALTER ROLE <user> SET statement_timeout = 0, or longer than the longest table read)",
      shorterReads: true,
    };
  }
  if (code === '55P03' && /lock timeout/i.test(message)) {
    return {
      reason,
      fix: "the lock_timeout of the source's user or database cut a query that waited for a lock (an ALTER TABLE, say); raise it for that user (ALTER ROLE <user> SET lock_timeout = 0)",
      shorterReads: false,
    };
  }
  if (code === '25P03') {
    return {
      reason,
      fix: "the idle_in_transaction_session_timeout of the source's user or database ended the session while the worker was busy; raise it for that user (ALTER ROLE <user> SET idle_in_transaction_session_timeout = 0)",
      shorterReads: false,
    };
  }
  if (code === '57014') {
    return { reason, fix: 'someone or something cancelled the query (pg_cancel_backend, a pooler or proxy timeout); check who, if it repeats', shorterReads: false };
  }
  return undefined;
}

export function classifyPostgresError(err: unknown): SourceErrorKind {
  const code = errorCode(err);
  if (AUTH_STATES.has(code)) return 'auth';
  if (readCancellation(err)) return 'cancelled';
  if (isLostPostgresConnection(err)) return 'lost-connection';
  // Class 22 (data exception: conversion, range, encoding), 23 (integrity): a value's fault.
  if (code.startsWith('22') || code.startsWith('23')) return 'bad-value';
  // The server's errors carry a five-character SQLSTATE; pg's own failures do not.
  return /^[0-9A-Z]{5}$/.test(code) ? 'data' : 'other';
}

/**
 * pg's error without values: SQLSTATE, the message with quoted values masked, and the column
 * when the server names it; never `detail`, `where` or `hint`, which quote rows and keys.
 */
export function describePostgresError(err: unknown): string {
  const column = (err as { column?: unknown })?.column;
  const text = valueFreeMessage(errorCode(err), String((err as Error)?.message ?? err), `'"`);
  return typeof column === 'string' && column ? `${text} (column ${column})` : text;
}
