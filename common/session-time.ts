/**
 * A run's session time (Digdag's `session_time`): the time the run stands for. A scheduled
 * or backfilled run's is its scheduled time, a manual run's its start (or `--session-time`).
 * The values SQL sees are derived from it in the pipeline's time zone. Pure.
 */

/** A 5-field cron expression or an interval in milliseconds: how the previous and next sessions are found. */
export type SessionCadence = { cron: string } | { everyMs: number } | undefined;

export interface SessionValues {
  /** Named BigQuery query parameters / typed literals, by name. */
  session_time: string;
  session_date: string;
  session_local_time: string;
  session_date_compact: string;
  session_unixtime: number;
  last_session_time: string;
  last_session_date: string;
  last_session_date_compact: string;
  next_session_time: string;
  next_session_date: string;
  next_session_date_compact: string;
  time_zone: string;
  /** The instants in UTC, `YYYY-MM-DD HH:MM:SS`, as the source sessions (which run in UTC) compare them. */
  utc: { session_time: string; last_session_time: string; next_session_time: string };
}

/** How each value is typed, in SQL literals and in query parameters. */
export const SESSION_VALUE_TYPES: Record<Exclude<keyof SessionValues, 'time_zone' | 'utc'>, 'TIMESTAMP' | 'DATE' | 'DATETIME' | 'DIGITS' | 'INT64'> = {
  session_time: 'TIMESTAMP',
  session_date: 'DATE',
  session_local_time: 'DATETIME',
  session_date_compact: 'DIGITS',
  session_unixtime: 'INT64',
  last_session_time: 'TIMESTAMP',
  last_session_date: 'DATE',
  last_session_date_compact: 'DIGITS',
  next_session_time: 'TIMESTAMP',
  next_session_date: 'DATE',
  next_session_date_compact: 'DIGITS',
};

export const SESSION_VALUE_NAMES = Object.keys(SESSION_VALUE_TYPES) as (keyof typeof SESSION_VALUE_TYPES)[];

/** Local wall-clock parts of an instant in a time zone. */
interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function localParts(ms: number, timeZone: string): LocalParts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS.indexOf(p.weekday),
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `+09:00`: the zone's offset at that instant. */
function offsetOf(ms: number, timeZone: string): string {
  const l = localParts(ms, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  const minutes = Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

function dateOf(ms: number, timeZone: string): string {
  const l = localParts(ms, timeZone);
  return `${pad(l.year, 4)}-${pad(l.month)}-${pad(l.day)}`;
}

function timeOf(ms: number, timeZone: string): string {
  const l = localParts(ms, timeZone);
  return `${dateOf(ms, timeZone)} ${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${offsetOf(ms, timeZone)}`;
}

/** Every value of a session, from its instant (ISO 8601) and the pipeline's zone and cadence. */
export function sessionValues(sessionIso: string, timeZone: string, cadence: SessionCadence): SessionValues {
  const ms = Date.parse(sessionIso);
  if (Number.isNaN(ms)) throw new Error(`session time ${JSON.stringify(sessionIso)} is not an ISO 8601 time`);
  const last = neighbourSession(ms, timeZone, cadence, -1);
  const next = neighbourSession(ms, timeZone, cadence, +1);
  const l = localParts(ms, timeZone);
  const compact = (t: number) => dateOf(t, timeZone).replace(/-/g, '');
  return {
    session_time: timeOf(ms, timeZone),
    session_date: dateOf(ms, timeZone),
    session_local_time: `${dateOf(ms, timeZone)} ${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}`,
    session_date_compact: compact(ms),
    session_unixtime: Math.floor(ms / 1000),
    last_session_time: timeOf(last, timeZone),
    last_session_date: dateOf(last, timeZone),
    last_session_date_compact: compact(last),
    next_session_time: timeOf(next, timeZone),
    next_session_date: dateOf(next, timeZone),
    next_session_date_compact: compact(next),
    time_zone: timeZone,
    utc: { session_time: utcText(ms), last_session_time: utcText(last), next_session_time: utcText(next) },
  };
}

const utcText = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');

const DAY_MS = 86_400_000;

/**
 * The session before (-1) or after (+1): the cadence's neighbouring time, or a day away
 * when the pipeline has no schedule (Digdag's daily default).
 */
function neighbourSession(ms: number, timeZone: string, cadence: SessionCadence, dir: -1 | 1): number {
  if (!cadence) return ms + dir * DAY_MS;
  if ('everyMs' in cadence) return ms + dir * cadence.everyMs;
  const matches = cronMatcher(cadence.cron);
  // Minute by minute, at most a year and a day away (a yearly cron's neighbour).
  const start = Math.floor(ms / 60000) * 60000;
  for (let i = 1; i <= 527_040; i++) {
    const t = start + dir * i * 60000;
    if (matches(localParts(t, timeZone))) return t;
  }
  return ms + dir * DAY_MS;
}

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A matcher of the local times a 5-field cron expression (minute hour day month weekday) names. */
export function cronMatcher(expression: string): (t: LocalParts) => boolean {
  const fields = (SHORTHANDS[expression.trim()] ?? expression).trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`cron expression ${JSON.stringify(expression)} must have 5 fields (minute hour day month weekday)`);
  const [minute, hour, day, month, weekday] = [
    cronField(fields[0], 0, 59),
    cronField(fields[1], 0, 23),
    cronField(fields[2], 1, 31),
    cronField(fields[3], 1, 12),
    cronField(fields[4].replace(/\b7\b/g, '0'), 0, 6),
  ];
  // As in cron: when both day fields are restricted, either may match.
  const dayRestricted = fields[2] !== '*';
  const weekdayRestricted = fields[4] !== '*';
  return (t) => {
    if (!minute.has(t.minute) || !hour.has(t.hour) || !month.has(t.month)) return false;
    if (dayRestricted && weekdayRestricted) return day.has(t.day) || weekday.has(t.weekday);
    return day.has(t.day) && weekday.has(t.weekday);
  };
}

const NAMES: Record<string, number> = {
  sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6,
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

function cronField(text: string, min: number, max: number): Set<number> {
  const values = new Set<number>();
  const num = (s: string) => {
    const n = NAMES[s.toLowerCase()] ?? Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`cron field "${text}": ${s} is not in ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`cron field "${text}": bad step`);
    let [lo, hi] = [min, max];
    if (range !== '*' && range !== '?') {
      const [a, b] = range.split('-');
      lo = num(a);
      hi = b === undefined ? (stepText === undefined ? lo : max) : num(b);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

/** A session value as a typed BigQuery literal: built from the value, never from config text. */
export function bigQueryLiteral(name: keyof typeof SESSION_VALUE_TYPES, values: SessionValues): string {
  const value = String(values[name]);
  switch (SESSION_VALUE_TYPES[name]) {
    case 'TIMESTAMP':
      return `TIMESTAMP '${checked(value, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/)}'`;
    case 'DATE':
      return `DATE '${checked(value, /^\d{4}-\d{2}-\d{2}$/)}'`;
    case 'DATETIME':
      return `DATETIME '${checked(value, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)}'`;
    case 'DIGITS':
    case 'INT64':
      return checked(value, /^\d+$/);
  }
}

function checked(value: string, shape: RegExp): string {
  if (!shape.test(value)) throw new Error(`session value ${JSON.stringify(value)} is not of the expected form`);
  return value;
}

/**
 * `--session-time`: an ISO 8601 time with its offset (`2026-11-25T07:00:00+09:00`, `...Z`),
 * or a date (`2026-11-25`), read as midnight in the pipeline's zone. Returns ISO 8601 UTC.
 */
export function parseSessionTime(text: string, timeZone: string): string {
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (date) {
    const wall = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
    // The instant whose local time in the zone is that midnight (two passes settle a DST edge).
    let t = wall;
    for (let i = 0; i < 2; i++) {
      const l = localParts(t, timeZone);
      t += wall - Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
    }
    return new Date(t).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim())) {
    throw new Error(`--session-time ${JSON.stringify(text)}: give a date (2026-11-25, midnight in the pipeline's zone) or a time with its offset (2026-11-25T07:00:00+09:00)`);
  }
  return new Date(Date.parse(text.trim())).toISOString();
}

/**
 * A table's `where:` with its `{{session_...}}` references as `{{n}}` markers and the names
 * they stand for, in order. Its own `?` or `$1` would be taken for parameters: refused.
 */
export function whereCondition(where: string): { sql: string; names: (typeof SESSION_VALUE_NAMES)[number][] } {
  if (/\?|\$\d/.test(where)) throw new Error('may not hold "?" or "$1"-style parameters; write session values as {{session_date}} and other values as literals');
  const names: (typeof SESSION_VALUE_NAMES)[number][] = [];
  const sql = where.replace(/\{\{\s*([A-Za-z0-9_.]*)\s*\}\}/g, (whole, name: string) => {
    if (!(SESSION_VALUE_NAMES as string[]).includes(name)) {
      throw new Error(`unknown placeholder ${whole}; the session values are ${SESSION_VALUE_NAMES.join(', ')}`);
    }
    names.push(name as (typeof SESSION_VALUE_NAMES)[number]);
    return `{{${names.length - 1}}}`;
  });
  return { sql, names };
}

/**
 * A session value as a source query parameter: dates as `YYYY-MM-DD`, `session_time` (and
 * last/next) as UTC `YYYY-MM-DD HH:MM:SS` (the extraction sessions run in UTC, so TIMESTAMP
 * and timestamptz columns compare right), `session_local_time` as the zone's wall clock.
 */
export function sourceParamValue(name: (typeof SESSION_VALUE_NAMES)[number], values: SessionValues): string {
  if (name === 'session_time' || name === 'last_session_time' || name === 'next_session_time') return values.utc[name];
  return String(values[name]);
}

/**
 * The first instant at or after `fromIso` whose wall-clock time in the zone is `hhmm`
 * ("06:00"): a deadline given as a time of day. A time that a daylight-saving jump skips
 * is met at the first minute after the jump.
 */
export function nextWallTime(fromIso: string, hhmm: string, timeZone: string): string {
  const [h, m] = hhmm.split(':').map(Number);
  const target = h * 60 + m;
  const minuteOfDay = (t: number) => {
    const l = localParts(t, timeZone);
    return l.hour * 60 + l.minute;
  };
  const start = Math.ceil(Date.parse(fromIso) / 60000) * 60000;
  let before = minuteOfDay(start - 60000);
  for (let i = 0; i <= 26 * 60; i++) {
    const t = start + i * 60000;
    const now = minuteOfDay(t);
    if (now === target || (before < target && now > target)) return new Date(t).toISOString();
    before = now;
  }
  return new Date(start + DAY_MS).toISOString();
}
