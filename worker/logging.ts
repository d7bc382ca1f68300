import { DefaultLogger, LogEntry, LogLevel } from '@temporalio/worker';
import { envReferences, LoadedConfig } from '../config/load';

export const LOG_LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
export type LogFormat = 'json' | 'text';

export function parseLogLevel(value: string): LogLevel {
  const level = value.toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new Error(`log level "${value}" is not one of ${LOG_LEVELS.join(', ').toLowerCase()} (--log-level or BQSYNC_LOG_LEVEL)`);
  }
  return level;
}

export function parseLogFormat(value: string): LogFormat {
  if (value !== 'json' && value !== 'text') throw new Error(`log format "${value}" is not json or text (--log-format or BQSYNC_LOG_FORMAT)`);
  return value;
}

// user:password@ in any URL-like text.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:)[^/@\s]+@/gi;

/**
 * Removes secrets from a log line: the values of the environment variables that the
 * config's secret keys name (source URLs and TLS keys, Temporal API key and TLS key), the passwords
 * inside them, and any `scheme://user:password@` as a last line of defence.
 */
export function makeRedactor(loaded: LoadedConfig | undefined, env: NodeJS.ProcessEnv = process.env): (text: string) => string {
  const secrets = new Set<string>();
  const refs: string[] = [];
  if (loaded) {
    const { config } = loaded;
    for (const source of Object.values(config.sources)) {
      refs.push(...envReferences(source.url), ...envReferences(source.replica?.url ?? ''));
      if (source.tls?.key) refs.push(...envReferences(source.tls.key));
    }
    if (config.temporal.apiKey) refs.push(...envReferences(config.temporal.apiKey));
    const tls = config.temporal.tls;
    if (typeof tls === 'object' && tls.key) refs.push(...envReferences(tls.key));
  }
  for (const name of refs) {
    const value = env[name];
    if (!value) continue;
    secrets.add(value);
    try {
      const password = decodeURIComponent(new URL(value).password);
      if (password) secrets.add(password);
    } catch {
      // not a URL
    }
  }
  // Longest first, so that a URL is replaced whole before its password alone is.
  const ordered = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of ordered) out = out.split(s).join('<redacted>');
    return out.replace(URL_PASSWORD, '$1<redacted>@');
  };
}

// Attributes that are noise in a log line (an opaque 100-character token).
const DROPPED_ATTRIBUTES = new Set(['taskToken']);

/** One JSON object per line: time, level, message, then the context (workflow, activity, table). */
export function jsonLine(entry: LogEntry): string {
  const { meta = {} } = entry;
  const fields: Record<string, unknown> = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level.toLowerCase(),
    message: entry.message,
  };
  for (const [key, value] of Object.entries(meta)) {
    if (DROPPED_ATTRIBUTES.has(key) || value === undefined) continue;
    fields[key] = value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
  }
  return JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The worker's logger: JSON lines on stdout (for CloudWatch) or the SDK's text on stderr. */
export function makeLogger(level: LogLevel, format: LogFormat, redact: (text: string) => string): DefaultLogger {
  if (format === 'json') {
    return new DefaultLogger(level, (entry) => process.stdout.write(redact(jsonLine(entry)) + '\n'));
  }
  const text = new DefaultLogger(level);
  // The SDK's text format (which tests and people read), with secrets removed.
  return new DefaultLogger(level, (entry) => text.log(entry.level, redact(entry.message), redactMeta(entry.meta, redact)));
}

function redactMeta(meta: Record<string, unknown> | undefined, redact: (text: string) => string): Record<string, unknown> | undefined {
  if (!meta) return meta;
  return Object.fromEntries(Object.entries(meta).map(([key, value]) => [key, redactValue(value, redact, 0)]));
}

function redactValue(value: unknown, redact: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) {
    const copy = new Error(redact(value.message));
    copy.name = value.name;
    copy.stack = value.stack && redact(value.stack);
    return copy;
  }
  // Plain nested objects (error details, options) a few levels deep; class instances as they are.
  if (depth < 4 && value && typeof value === 'object' && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)) {
    if (Array.isArray(value)) return value.map((v) => redactValue(v, redact, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, redact, depth + 1)]));
  }
  return value;
}
