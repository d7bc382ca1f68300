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

export function classifyPostgresError(err: unknown): SourceErrorKind {
  const code = errorCode(err);
  if (AUTH_STATES.has(code)) return 'auth';
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
