import { errorCode, isSocketError } from '../connection-lost';
import { checkIdentifier, SourceErrorKind } from '../driver';

/** MySQL/MariaDB identifiers are quoted with backticks, an inner backtick doubled. */
export function quoteMysql(identifier: string): string {
  return '`' + checkIdentifier(identifier).replace(/`/g, '``') + '`';
}

/** The server refused the login or the database: a person must fix the URL. */
const AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

export function isLostMysqlConnection(err: unknown): boolean {
  return isSocketError(err) || errorCode(err) === 'PROTOCOL_CONNECTION_LOST';
}

export function classifyMysqlError(err: unknown): SourceErrorKind {
  const code = errorCode(err);
  if (AUTH_CODES.has(code)) return 'auth';
  if (isLostMysqlConnection(err)) return 'lost-connection';
  // mysql2 names the server's errors ER_*; its own failures (timeouts, refused) are not.
  return code.startsWith('ER_') ? 'data' : 'other';
}
