import { errorCode, isSocketError } from '../connection-lost';
import { checkIdentifier, SourceErrorKind } from '../driver';
import { valueFreeMessage } from '../value-free';

/** MySQL/MariaDB identifiers are quoted with backticks, an inner backtick doubled. */
export function quoteMysql(identifier: string): string {
  return '`' + checkIdentifier(identifier).replace(/`/g, '``') + '`';
}

/** The server refused the login or the database: a person must fix the URL. */
const AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

/**
 * The server gave up on the connection's packets: 1161 when rows waited longer than
 * net_write_timeout for the client to take them, 1159 when the client sent nothing for
 * net_read_timeout. The connection is gone after either.
 */
const NET_TIMEOUT_CODES = new Set(['ER_NET_WRITE_INTERRUPTED', 'ER_NET_READ_INTERRUPTED']);

export function isLostMysqlConnection(err: unknown): boolean {
  return isSocketError(err) || errorCode(err) === 'PROTOCOL_CONNECTION_LOST' || NET_TIMEOUT_CODES.has(errorCode(err));
}

/** MySQL's own words for net_write_timeout, in its error 1161 and its log's "Aborted connection" line. */
export function isNetWriteTimeout(err: unknown): boolean {
  return errorCode(err) === 'ER_NET_WRITE_INTERRUPTED' || /timeout writing communication packets/i.test(String((err as Error)?.message ?? ''));
}

/** The server could not convert or hold a value (these messages quote it). */
const BAD_VALUE_CODES = new Set([
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_DATA_TOO_LONG',
  'ER_DATA_OUT_OF_RANGE',
  'ER_INVALID_JSON_TEXT',
  'ER_INVALID_JSON_TEXT_IN_PARAM',
  'ER_INVALID_CHARACTER_STRING',
  'ER_CANNOT_CONVERT_STRING',
  'ER_DUP_ENTRY',
]);

export function classifyMysqlError(err: unknown): SourceErrorKind {
  const code = errorCode(err);
  if (AUTH_CODES.has(code)) return 'auth';
  if (BAD_VALUE_CODES.has(code)) return 'bad-value';
  if (isLostMysqlConnection(err)) return 'lost-connection';
  // mysql2 names the server's errors ER_*; its own failures (timeouts, refused) are not.
  return code.startsWith('ER_') ? 'data' : 'other';
}

/** mysql2's error without values: its code and the message with quoted values masked (never `sql`). */
export function describeMysqlError(err: unknown): string {
  return valueFreeMessage(errorCode(err), String((err as Error)?.message ?? err), "'");
}
