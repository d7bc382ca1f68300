import fs from 'node:fs';
import path from 'node:path';
import { flattenExports, type Exports } from './digdag-vars';
import { parseLocated, type LocatedYaml } from './yaml-lines';
import type { ImportReport } from './report';

/** A task of a `.dig` file that becomes a node of a bqsync pipeline. */
export interface DigNode {
  /** The task's path, e.g. `+load+orders`: unique in its workflow. */
  id: string;
  /** The task's own name without `+`. */
  name: string;
  kind: 'embulk' | 'bq';
  line: number;
  /** Ids of the nodes that must finish first (Digdag's task order and `_parallel`). */
  after: string[];
  /** The `.dig`'s `_export:` parameters in scope of the task. */
  exports: Exports;
  /** embulk>: the config file; bq>: the SQL file. */
  file: string;
  /** bq>: `destination_table:` and `write_disposition:`. */
  destinationTable?: string;
  writeDisposition?: string;
  /** bq>: the `_retry:` of the task or of the nearest group around it, as the step's `retry:`. */
  retry?: DigRetry;
}

/** A `_retry:` as bqsync's `retry:` (attempts in all, the first wait, the longest wait). */
export interface DigRetry {
  attempts: number;
  interval?: string;
  maxInterval?: string;
}

export interface DigWorkflow {
  name: string;
  file: string;
  timezone?: string;
  schedule?: { cron?: string; every?: string };
  nodes: DigNode[];
  /** `_error:` tasks post a message (mail>, slack>, ...): the pipeline's webhook. */
  notifyOnError: boolean;
  /** The smallest `_parallel: { limit: N }`. */
  parallelLimit?: number;
  /** The largest `_retry:`, as the pipeline's `retry:`. */
  retry?: DigRetry;
  /** Workflows named by `require>` tasks. */
  requires: string[];
  /** `sla:` as bqsync's: a time of day or a duration after the start. */
  sla?: { time?: string; after?: string };
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** Operators other than embulk> and bq>, and what to do instead. */
const OTHER_OPERATORS: Record<string, string> = {
  'sh>': 'shell tasks do not run in bqsync; run the command elsewhere (a CI job, a SQL step if it is SQL)',
  'py>': 'Python tasks do not run in bqsync; move the logic into a SQL step or another system',
  'rb>': 'Ruby tasks do not run in bqsync',
  'echo>': 'not needed: the run\'s progress is in bqsync status and the Web UI',
  'td>': 'Treasure Data queries are not supported; write the query as a BigQuery SQL step',
  'call>': 'calling another workflow is not supported; its tables are imported with its own .dig file (a pipeline of their own)',
  'require>': 'see requires: below',
  'loop>': 'loops are not supported',
  'for_each>': 'loops are not supported; list the tables one by one',
  'if>': 'conditions are not supported',
  'http>': 'HTTP calls are not supported',
  'mail>': 'mail is not sent; the pipeline\'s webhook (notify:) reports failed runs',
  'slack>': 'use the pipeline\'s webhook (notify:)',
  'wait>': 'not needed',
  'bq_ddl>': 'write the DDL as a SQL step',
  'bq_load>': 'loads from Cloud Storage are not supported',
  'bq_extract>': 'extracts to Cloud Storage are not supported',
  'gcs_wait>': 'not supported',
};

/**
 * Reads one `.dig` workflow: its schedule, time zone, `_export:` parameters, and the embulk>
 * and bq> tasks as nodes whose `after:` follows Digdag's order (children run one after
 * another unless their parent says `_parallel: true`). Everything else is reported.
 */
export function readDigFile(file: string, baseDir: string, report: ImportReport): DigWorkflow {
  const rel = path.relative(baseDir, file);
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split(/\r?\n/);
  const y = parseLocated({ text, origins: lines.map((_, i) => ({ file: rel, line: i + 1 })) });
  const root = obj(y.data);
  const note = (keys: string[], kind: 'unmapped' | 'changed', what: string, todo: string) => report.add(rel, y.where(...keys).line, kind, what, todo);
  const workflow: DigWorkflow = { name: path.basename(file, '.dig'), file: rel, nodes: [], notifyOnError: false, requires: [] };
  if (typeof root.timezone === 'string') workflow.timezone = root.timezone;
  if (root.schedule !== undefined) workflow.schedule = mapSchedule(obj(root.schedule), (what, kind, todo) => note(['schedule'], kind, what, todo));
  if (root.sla !== undefined) workflow.sla = mapSla(obj(root.sla), (keys, kind, what, todo) => note(['sla', ...keys], kind, what, todo));
  walk(root, [], [], {}, { workflow, y, note, report, rel, baseDir: path.dirname(file) });
  return workflow;
}

interface WalkContext {
  workflow: DigWorkflow;
  y: LocatedYaml;
  note: (keys: string[], kind: 'unmapped' | 'changed', what: string, todo: string) => void;
  report: ImportReport;
  rel: string;
  baseDir: string;
  /** The `_retry:` of the nearest group (or the task itself) that sets one. */
  retryScope?: DigRetry;
}

/** Walks a task group; returns the ids of the nodes that end it (what the next task waits for). */
function walk(group: Obj, keys: string[], preds: string[], exports: Exports, outer: WalkContext): string[] {
  const scope = { ...exports, ...flattenExports(group._export) };
  const retry = group._retry === undefined ? undefined : digRetry(group._retry);
  handleDirectives(group, keys, outer, retry);
  const ctx = retry ? { ...outer, retryScope: retry } : outer;
  const operator = Object.keys(group).find((k) => k.endsWith('>'));
  if (operator) return task(group, operator, keys, preds, scope, ctx);
  const children = Object.keys(group).filter((k) => k.startsWith('+'));
  const parallel = group._parallel === true || (typeof group._parallel === 'object' && group._parallel !== null);
  const limit = Number(obj(group._parallel).limit);
  if (Number.isInteger(limit) && limit > 0) {
    ctx.workflow.parallelLimit = Math.min(ctx.workflow.parallelLimit ?? limit, limit);
    ctx.note([...keys, '_parallel'], 'changed', `_parallel: { limit: ${limit} }`, `bqsync's limits hold per run and per source: the pipeline's concurrency is set to ${ctx.workflow.parallelLimit}`);
  }
  if (parallel) {
    const ends = children.flatMap((c) => walk(obj(group[c]), [...keys, c], preds, scope, ctx));
    return ends.length > 0 ? ends : preds;
  }
  let current = preds;
  for (const c of children) current = walk(obj(group[c]), [...keys, c], current, scope, ctx);
  return current;
}

/** Task-level settings of any task or group: what bqsync does with each (`retry`: its `_retry:` as bqsync reads it). */
function handleDirectives(group: Obj, keys: string[], ctx: WalkContext, retry: DigRetry | undefined): void {
  if (group._error !== undefined) {
    ctx.workflow.notifyOnError = true;
    const ops = JSON.stringify(group._error).match(/"[a-z_]+>"/g)?.map((s) => s.slice(1, -1)) ?? [];
    ctx.note([...keys, '_error'], 'changed', `_error: ${[...new Set(ops)].join(', ') || 'tasks'}`,
      'failed runs are posted to the pipeline\'s webhook (notify: webhookUrlEnv); set that variable to a Slack-compatible URL (for mail, a mail gateway\'s webhook)');
  }
  if (group._retry !== undefined) {
    const what = `_retry: ${JSON.stringify(group._retry)}`;
    if (!retry) {
      ctx.note([...keys, '_retry'], 'unmapped', what, 'not a retry limit bqsync reads (a number, or { limit, interval, interval_type }); the pipeline keeps its default retry: (4 attempts, 15 s doubling)');
    } else {
      if (!ctx.workflow.retry || retry.attempts > ctx.workflow.retry.attempts) ctx.workflow.retry = retry;
      const r = ctx.workflow.retry;
      ctx.note([...keys, '_retry'], 'changed', what,
        `bqsync retries each table sync and each SQL step on its own, not the group: the pipeline's retry: (its table syncs) is ${r.attempts} attempts${r.interval ? `, ${r.interval} apart${r.maxInterval === r.interval ? '' : ' and doubling'}` : ''}; a bq> task under this one gets it as its step's retry:`);
    }
  }
  for (const k of ['_check', '_background', '_do']) {
    if (group[k] !== undefined) ctx.note([...keys, k], 'unmapped', k, 'not supported; left out');
  }
  for (const k of Object.keys(group)) {
    if (k.startsWith('!include')) ctx.note([...keys, k], 'unmapped', `!include : ${String(group[k])}`, 'included files are not read; merge them into the .dig before importing');
  }
}

/**
 * Digdag's `_retry: N` (N retries after the first attempt) or `{ limit, interval, interval_type }`
 * (seconds; `constant`, Digdag's default, or `exponential`). bqsync's waits double up to
 * `maxInterval`, so a constant interval is one whose longest wait is itself.
 */
function digRetry(value: unknown): DigRetry | undefined {
  const spec = typeof value === 'object' && value !== null ? (value as Obj) : { limit: value };
  const limit = Number(spec.limit);
  if (!Number.isInteger(limit) || limit < 0 || limit > 99) return undefined;
  const retry: DigRetry = { attempts: limit + 1 };
  if (spec.interval !== undefined) {
    const seconds = Number(spec.interval);
    if (!Number.isFinite(seconds) || seconds < 0) return undefined;
    // Temporal's retries wait at least a second.
    retry.interval = `${Math.max(1, Math.round(seconds))}s`;
    if (spec.interval_type !== 'exponential') retry.maxInterval = retry.interval;
  }
  return retry;
}

function task(group: Obj, operator: string, keys: string[], preds: string[], exports: Exports, ctx: WalkContext): string[] {
  const id = keys.join('');
  const name = (keys[keys.length - 1] ?? ctx.workflow.name).replace(/^\+/, '');
  const line = ctx.y.where(...keys, operator).line;
  const command = String(group[operator] ?? '');
  if (operator === 'embulk>' || operator === 'bq>') {
    const file = path.resolve(ctx.baseDir, command);
    if (!fs.existsSync(file)) {
      ctx.report.add(ctx.rel, line, 'unmapped', `${operator} ${command}`, `the file ${command} was not found; the task was not imported`);
      return preds;
    }
    const node: DigNode = { id, name, kind: operator === 'embulk>' ? 'embulk' : 'bq', line, after: preds, exports, file };
    if (node.kind === 'bq') {
      if (ctx.retryScope) node.retry = ctx.retryScope;
      node.destinationTable = group.destination_table === undefined ? undefined : String(group.destination_table);
      node.writeDisposition = group.write_disposition === undefined ? undefined : String(group.write_disposition);
      for (const k of Object.keys(group)) {
        if (['bq>', 'destination_table', 'write_disposition', 'create_disposition', '_export', '_error', '_retry'].includes(k)) continue;
        ctx.note([...keys, k], 'unmapped', `${k}: ${JSON.stringify(group[k])}`, 'a bq> option bqsync does not carry over; write its effect into the SQL');
      }
    }
    ctx.workflow.nodes.push(node);
    return [id];
  }
  if (operator === 'require>') {
    ctx.workflow.requires.push(command.replace(/\.dig$/, ''));
    for (const k of Object.keys(group)) {
      if (k !== 'require>') ctx.note([...keys, k], 'unmapped', `require> ${k}: ${JSON.stringify(group[k])}`, 'bqsync waits for the run of the same session date; other options are left out');
    }
    return preds;
  }
  ctx.report.add(ctx.rel, line, 'unmapped', `${operator} ${command}`.trim(), OTHER_OPERATORS[operator] ?? 'this operator has no bqsync equivalent; the task was left out');
  return preds;
}

/** Digdag's `sla:` (`time: HH:MM` or `duration: HH:MM:SS`, with `+notice` tasks or `alert: true`). */
function mapSla(
  s: Obj,
  note: (keys: string[], kind: 'unmapped' | 'changed', what: string, todo: string) => void,
): { time?: string; after?: string } | undefined {
  const notice = Object.keys(s).filter((k) => k.startsWith('+'));
  if (notice.length > 0 || s.alert === true) {
    note([notice[0] ?? 'alert'], 'changed', notice.length ? `sla: ${notice.join(', ')}` : 'sla: alert: true', 'a late run is posted to the pipeline\'s webhook (notify:) once and marked late (bqsync runs, status, BqsyncLate in the Web UI)');
  }
  if (s.fail === true) note(['fail'], 'unmapped', 'sla: fail: true', 'a late run is reported, never failed: its tables go on');
  const time = typeof s.time === 'string' ? /^(\d{1,2}):(\d{2})(?::\d{2})?$/.exec(s.time) : null;
  if (time) return { time: `${time[1].padStart(2, '0')}:${time[2]}` };
  const duration = typeof s.duration === 'string' ? /^(\d+):(\d{2}):(\d{2})$/.exec(s.duration) : null;
  if (duration) return { after: `${Number(duration[1]) * 60 + Number(duration[2]) + (Number(duration[3]) > 0 ? 1 : 0)}m` };
  note([], 'unmapped', `sla: ${JSON.stringify(s)}`, 'no time: or duration: bqsync can read; add sla: { time: "HH:MM" } or { after: "2h" } by hand');
  return undefined;
}

const WEEKDAY = /^(sun|mon|tue|wed|thu|fri|sat)[a-z]*$/i;

/** Digdag's schedule: operators as a cron expression or an interval. */
function mapSchedule(s: Obj, note: (what: string, kind: 'unmapped' | 'changed', todo: string) => void): { cron?: string; every?: string } | undefined {
  const hms = (text: string) => {
    const [h, m, sec] = text.split(':').map(Number);
    if (sec) note(`${text}`, 'changed', 'schedules have minute precision here: the seconds were dropped');
    return { h, m };
  };
  let out: { cron?: string; every?: string } | undefined;
  if (s['daily>'] !== undefined) {
    const { h, m } = hms(String(s['daily>']));
    out = { cron: `${m} ${h} * * *` };
    note(`daily>: ${String(s['daily>'])}`, 'changed',
      `mapped to cron "${m} ${h} * * *"; a run's session_time is its scheduled time (${String(s['daily>'])}), not midnight as in Digdag; session_date is the same day`);
  } else if (s['hourly>'] !== undefined) {
    const [m, sec] = String(s['hourly>']).split(':').map(Number);
    if (sec) note(`hourly>: ${String(s['hourly>'])}`, 'changed', 'the seconds were dropped');
    out = { cron: `${m} * * * *` };
  } else if (s['weekly>'] !== undefined) {
    const [day, time] = String(s['weekly>']).split(',');
    const { h, m } = hms(time);
    out = { cron: `${m} ${h} * * ${WEEKDAY.test(day) ? day.slice(0, 3).toUpperCase() : day}` };
  } else if (s['monthly>'] !== undefined) {
    const [day, time] = String(s['monthly>']).split(',');
    const { h, m } = hms(time);
    out = { cron: `${m} ${h} ${day} * *` };
  } else if (s['minutes_interval>'] !== undefined) {
    out = { every: `${Number(s['minutes_interval>'])}m` };
  } else if (s['cron>'] !== undefined) {
    out = { cron: String(s['cron>']) };
  } else {
    note(JSON.stringify(s), 'unmapped', 'no schedule operator bqsync knows; the pipeline has no schedule');
  }
  for (const k of ['start', 'end', 'skip_delayed_by']) {
    if (s[k] !== undefined) note(`${k}: ${String(s[k])}`, 'unmapped', 'not supported: pause the schedule (bqsync schedule pause) outside the window, or set catchupWindow:');
  }
  return out;
}
