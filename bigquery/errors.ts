import { isBigQueryUnreachable } from './unreachable';

/**
 * What a BigQuery error means for the one who retries: BigQuery's own `reason` decides.
 * - transient: BigQuery or its quotas were busy (backend errors, rate limits): a retry helps;
 * - unreachable: the call never reached BigQuery (unreachable.ts): a retry helps;
 * - rejected: BigQuery refused the statement or the rows (invalid SQL, a missing table, a
 *   value it cannot read): the same job would fail the same way;
 * - other: anything else, left to the caller's retries.
 */
export type BigQueryErrorKind = 'transient' | 'unreachable' | 'rejected' | 'other';

/** BigQuery's reasons for a failure a later attempt may get past (its error-message table). */
const TRANSIENT_REASONS = new Set([
  'backendError',
  'internalError',
  'jobBackendError',
  'rateLimitExceeded',
  'jobRateLimitExceeded',
  'quotaExceeded',
  'tableUnavailable',
  'timeout',
]);

/** Reasons that say the job itself is wrong: its SQL, what the SQL names, or its rows. */
const REJECTED_REASONS = new Set(['invalidQuery', 'invalid', 'notFound', 'duplicate', 'accessDenied', 'resourcesExceeded', 'responseTooLarge']);

/**
 * The emulator reports every failed query job as `jobInternalError` (real BigQuery: a
 * passing fault); its message then starts with the SQL analyzer's status when the SQL was
 * at fault.
 */
const ANALYZER_REFUSAL = /\b(INVALID_ARGUMENT|NOT_FOUND|ALREADY_EXISTS)\b|not found|failed to analyze|syntax error/i;

/** BigQuery's reason code of an API error or a failed job; undefined for other errors. */
export function bigQueryReason(err: unknown): string | undefined {
  const e = err as { reason?: unknown; errors?: { reason?: unknown }[] } | null;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.reason === 'string' && e.reason) return e.reason;
  const first = Array.isArray(e.errors) ? e.errors.find((x) => typeof x?.reason === 'string') : undefined;
  return first ? String(first.reason) : undefined;
}

export function classifyBigQueryError(err: unknown): BigQueryErrorKind {
  if (isBigQueryUnreachable(err)) return 'unreachable';
  const reason = bigQueryReason(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (reason === 'jobInternalError') return ANALYZER_REFUSAL.test(rawText(err)) ? 'rejected' : 'transient';
  if (reason && REJECTED_REASONS.has(reason)) return 'rejected';
  if (reason && TRANSIENT_REASONS.has(reason)) return 'transient';
  if (typeof code === 'number' && (code >= 500 || code === 429)) return 'transient';
  return 'other';
}

/** BigQuery's own words, for classification only: they can quote row values, so never shown. */
function rawText(err: unknown): string {
  const e = err as { bigQueryMessages?: () => string[]; message?: unknown; errors?: { message?: unknown }[] };
  const parts = typeof e.bigQueryMessages === 'function' ? e.bigQueryMessages() : [String(e.message ?? '')];
  for (const inner of Array.isArray(e.errors) ? e.errors : []) parts.push(String(inner?.message ?? ''));
  return parts.join('\n');
}

/** Where in a load BigQuery found the value it could not read: never the value itself. */
export interface RejectedValue {
  /** The destination column, when BigQuery's message names one of the table's columns. */
  column?: string;
  /** The line of the staged file (1-based), when BigQuery gives it. */
  line?: number;
  /** The byte offset of the row in the staged file, when BigQuery gives it instead of a line. */
  position?: number;
}

/**
 * Finds the column and the row of a rejected load in BigQuery's messages, without taking
 * any other text from them: BigQuery's messages quote values ("Value: ...", "Could not
 * parse '...'"), and the emulator's carry whole rows.
 */
export function locateRejectedValue(err: unknown, columns: string[]): RejectedValue {
  const text = rawText(err);
  const found: RejectedValue = {};
  const field = /\bField: ([^\s;,]+)|\bfor field ([^\s;,]+)|\bcolumn[ :]+[`'"]?([A-Za-z_][A-Za-z0-9_]*)/i.exec(text);
  const named = field?.[1] ?? field?.[2] ?? field?.[3];
  if (named && columns.includes(named)) found.column = named;
  else found.column = columns.find((c) => new RegExp(`(^|[^A-Za-z0-9_])${escapeRegExp(c)}([^A-Za-z0-9_]|$)`).test(text) && c.length > 2);
  const line = /\b(?:line|row)[: ]+(\d+)\b/i.exec(text);
  if (line) found.line = Number(line[1]);
  const position = /\bposition[: ]+(\d+)\b/i.exec(text);
  if (position) found.position = Number(position[1]);
  return found;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What BigQuery said about a statement it refused, for the one who fixes the SQL ("Unrecognized
 * name: total at [3:5]"), with anything that could be a value taken out: quoted text, and
 * whatever follows "value" (runtime errors quote the value that broke a CAST or a division).
 */
export function refusedSqlHint(err: unknown): string {
  const first = rawText(err).split('\n').find((m) => m.trim()) ?? '';
  const masked = first
    .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, '<…>')
    .replace(/\b(values?)\b\s*:?.*$/i, '$1 <…>');
  return masked.length > 300 ? `${masked.slice(0, 299)}…` : masked;
}
