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
 * `jobInternalError` is a passing fault in BigQuery ("an internal error during execution");
 * the emulator uses it for every failed job, also for SQL and rows it refuses. Only these
 * words mean a passing fault there. A load file that is not JSON at all ("expected comma
 * after object value") is one too: bqsync writes every line itself, and the emulator said so
 * once, at a load average of 15, of a 1,000,000-row file that loaded when synced again; and
 * a load file cut short ("json: string unexpected end of JSON input"), which it said of a
 * 40,000-row file in the suite while both cores were busy: its HTTP server cuts a body that
 * takes more than 15 s to arrive. A value it cannot read comes with the row's insert
 * ("args [...]: invalid character ..."), not so.
 */
const INTERNAL_BUT_PASSING = /failed to get connection|context canceled|database is locked|internal error during execution|unable to complete|expected comma after object value|json: string unexpected end of JSON input/i;

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
  if (reason === 'jobInternalError') return INTERNAL_BUT_PASSING.test(rawText(err)) ? 'transient' : 'rejected';
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
 * parse '...'"), and the emulator's carry whole rows. A column is named only when the
 * message names it, or when the kind of parse that failed fits one column of the table.
 */
export function locateRejectedValue(err: unknown, columns: { name: string; type: string }[]): RejectedValue {
  const text = rawText(err);
  const found: RejectedValue = {};
  const named = /\bcolumn_name:\s*"?([^\s",;]+)|\bField: ([^\s;,]+)|\bfor field ([^\s;,]+)/i.exec(text);
  const name = named?.[1] ?? named?.[2] ?? named?.[3];
  found.column = columns.find((c) => c.name === name)?.name ?? columnByParseKind(text, columns);
  const line = /\bline_number:\s*(\d+)|\bline (\d+)\b/i.exec(text);
  if (line) found.line = Number(line[1] ?? line[2]);
  const position = /\bbyte_offset_to_start_of_line:\s*(\d+)|\brow starting at position (\d+)/i.exec(text);
  if (position) found.position = Number(position[1] ?? position[2]);
  return found;
}

/** The types whose values each kind of parse failure reads (JSON text, a number). */
const PARSE_KINDS: [RegExp, string[]][] = [
  [/parse_json|looking for beginning of value|invalid JSON|JSON parsing/i, ['JSON']],
  [/ParseFloat|ParseInt|out of range/i, ['JSON', 'FLOAT64', 'NUMERIC', 'BIGNUMERIC', 'INT64']],
];

function columnByParseKind(text: string, columns: { name: string; type: string }[]): string | undefined {
  for (const [pattern, types] of PARSE_KINDS) {
    if (!pattern.test(text)) continue;
    const fits = columns.filter((c) => types.includes(c.type));
    if (fits.length === 1) return fits[0].name;
    // The worker writes numeric columns from the database's own digits; JSON text is the
    // one place an unreadable number comes from the source as it is.
    const json = fits.filter((c) => c.type === 'JSON');
    return json.length === 1 ? json[0].name : undefined;
  }
  return undefined;
}


/**
 * What BigQuery said about a statement it refused, for the one who fixes the SQL ("Unrecognized
 * name: total at [3:5]", "Not found: Table p:d.t"), with anything that could be a value
 * taken out: quoted text, and whatever follows "value" (runtime errors quote the value
 * that broke a CAST or a division).
 */
export function refusedSqlHint(err: unknown): string {
  const first = rawText(err).split('\n').find((m) => m.trim()) ?? '';
  const masked = first
    .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, '<…>')
    // The emulator lists a failed statement's bound values, base64-encoded.
    .replace(/\bargs \[[^\]]*\]?/g, 'args <…>')
    .replace(/[A-Za-z0-9+/]{16,}={0,2}/g, '<…>')
    .replace(/\b(values?)\b\s*:?.*$/i, '$1 <…>');
  return masked.length > 300 ? `${masked.slice(0, 299)}…` : masked;
}
