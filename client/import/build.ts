import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { readDigFile, type DigNode, type DigRetry, type DigWorkflow } from './digdag';
import { readEmbulkConfig, type EmbulkConnection, type EmbulkTable } from './embulk';
import { mapDigdagVariables } from './digdag-vars';
import { ImportReport } from './report';

/** What `bqsync import` makes of a Digdag + Embulk project. */
export interface ImportResult {
  /** The bqsync.yaml text. */
  yaml: string;
  report: ImportReport;
  /** Per pipeline, the `source.table` keys it syncs, for a summary. */
  tables: Record<string, string[]>;
  /** Environment variables the config names, with what each should hold. */
  variables: Record<string, string>;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** A name bqsync accepts (letters, digits, underscores, starting with a letter). */
function safeName(text: string, fallback: string): string {
  let n = text.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z]+/, '').slice(0, 64);
  if (!n) n = fallback;
  return n;
}

function unique(name: string, taken: Set<string>): string {
  let n = name;
  for (let i = 2; taken.has(n); i++) n = `${name}_${i}`;
  taken.add(n);
  return n;
}

/** A source's name from its database: `shop`, or `shop` for `{{ env.SHOP_DATABASE }}`. */
function sourceBaseName(database: string): string {
  const env = /^\$ENV\{([A-Za-z0-9_]+)/.exec(database);
  const text = env ? env[1].toLowerCase().replace(/_(database|db|name|schema)$/, '') : database;
  return safeName(text, 'source');
}

/** `$ENV{X}` (Embulk's env. variables) as bqsync's `${X}`. */
const envRefs = (text: string) => text.replace(/\$ENV\{([^}]*)\}/g, '${$1}');

interface SourceOut {
  name: string;
  connection: EmbulkConnection;
  urlVar: string;
  tables: { table: EmbulkTable; after: string[] }[];
}

interface StepOut {
  name: string;
  after: string[];
  dataset?: string;
  sql: string;
  description: string;
  retry?: DigRetry;
}

interface PipelineOut {
  name: string;
  dig?: DigWorkflow;
  sources: SourceOut[];
  steps: StepOut[];
  requires: { pipeline: string; tables: string[] }[];
}

/** Reads every `.dig` file and Embulk config under `dir` and builds one bqsync config. */
export function importProject(dir: string): ImportResult {
  const report = new ImportReport();
  const files = listFiles(dir);
  const digs = files.filter((f) => f.endsWith('.dig')).map((f) => readDigFile(f, dir, report));
  const embulkFiles = files.filter((f) => /\.ya?ml(\.liquid)?$/.test(f) && !path.basename(f).startsWith('_') && looksLikeEmbulk(f));

  const read = new Map<string, EmbulkTable | undefined>();
  const readTable = (file: string, exports: Record<string, string>) => {
    if (!read.has(file)) read.set(file, readEmbulkConfig(file, dir, exports, report));
    return read.get(file);
  };

  const pipelineNames = new Set<string>();
  const sourceNames = new Set<string>();
  const urlVars = new Map<string, string>();
  const variables: Record<string, string> = {};
  const pipelines: PipelineOut[] = [];
  /** Where each destination already lands, so that a table loaded by two workflows is synced by the first. */
  const landed = new Map<string, string>();

  const sourceFor = (p: PipelineOut, c: EmbulkConnection): SourceOut => {
    const key = JSON.stringify([c.type, c.host, c.port, c.user, c.database, c.schema, c.dataset]);
    const found = p.sources.find((s) => JSON.stringify([s.connection.type, s.connection.host, s.connection.port, s.connection.user, s.connection.database, s.connection.schema, s.connection.dataset]) === key);
    if (found) return found;
    const base = sourceBaseName(c.database);
    const name = unique(!sourceNames.has(base) ? base : p.name.startsWith(base) ? p.name : `${base}_${p.name}`, sourceNames);
    const connKey = JSON.stringify([c.type, c.host, c.port, c.user, c.database]);
    let urlVar = urlVars.get(connKey);
    if (!urlVar) {
      urlVar = unique(`${base.toUpperCase()}_${c.scheme.toUpperCase()}_URL`, new Set(urlVars.values()));
      urlVars.set(connKey, urlVar);
      const show = (v: string) => envRefs(v).replace(/\$\{([^}]*)\}/g, '<$$$1>');
      variables[urlVar] = `${c.scheme}://${show(c.user)}:<password>@${show(c.host)}:${show(c.port)}/${show(c.database)}`;
    }
    const s: SourceOut = { name, connection: c, urlVar, tables: [] };
    p.sources.push(s);
    return s;
  };

  const keyOf = new Map<string, string>(); // dig node id (per workflow) -> source.table or step name
  const addTable = (p: PipelineOut, t: EmbulkTable, after: string[], nodeId?: string) => {
    const dest = `${t.connection.dataset}.${t.destination ?? t.table}`;
    const other = landed.get(dest);
    if (other) {
      report.add(t.file, t.line, 'changed', `${t.table} (also loaded by ${other})`, `one table is synced by one pipeline: it stays in pipeline ${other}`);
      return;
    }
    const s = sourceFor(p, t.connection);
    landed.set(dest, p.name);
    s.tables.push({ table: t, after });
    if (nodeId) keyOf.set(`${p.name}/${nodeId}`, `${s.name}.${t.table}`);
  };

  for (const dig of digs) {
    const p: PipelineOut = { name: unique(safeName(dig.name, 'pipeline'), pipelineNames), dig, sources: [], steps: [], requires: [] };
    pipelines.push(p);
    const stepNames = new Set<string>();
    const mapAfter = (ids: string[]) => ids.map((id) => keyOf.get(`${p.name}/${id}`)).filter((k): k is string => Boolean(k));
    for (const node of dig.nodes) {
      if (node.kind === 'embulk') {
        const t = readTable(node.file, node.exports);
        if (t) addTable(p, t, mapAfter(node.after), node.id);
      } else {
        const step = sqlStep(node, dig, dir, report, stepNames);
        if (!step) continue;
        step.after = mapAfter(node.after);
        keyOf.set(`${p.name}/${node.id}`, step.name);
        p.steps.push(step);
      }
    }
  }

  // Embulk configs no workflow runs: a pipeline of their own, so that nothing is lost.
  const used = new Set(digs.flatMap((d) => d.nodes.filter((n) => n.kind === 'embulk').map((n) => n.file)));
  const orphans = embulkFiles.filter((f) => !used.has(f));
  if (orphans.length > 0) {
    const p: PipelineOut = { name: unique('embulk', pipelineNames), sources: [], steps: [], requires: [] };
    for (const f of orphans) {
      const t = readTable(f, {});
      if (!t) continue;
      report.add(t.file, t.line, 'changed', 'no .dig file runs this config', `imported into pipeline ${p.name} (no schedule); move the table where it belongs`);
      addTable(p, t, []);
    }
    pipelines.push(p);
  }

  // require>: the required workflow's tables, for the same session date, before anything starts.
  for (const p of pipelines) {
    for (const name of p.dig?.requires ?? []) {
      const target = pipelines.find((q) => q.dig?.name === name && q.sources.length > 0);
      if (!target) {
        report.add(p.dig!.file, undefined, 'unmapped', `require>: ${name}`, 'no imported workflow of that name with tables; the wait was left out');
        continue;
      }
      const tables = target.sources.flatMap((s) => s.tables.map((t) => `${s.name}.${t.table.table}`));
      p.requires.push({ pipeline: target.name, tables });
      report.add(p.dig!.file, undefined, 'changed', `require>: ${name}`,
        `mapped to requires: every table of pipeline ${target.name} for the same session date (timeout 6h); narrow tables: to the ones this pipeline reads`);
    }
  }

  // Steps that wait for nothing (first in their workflow) wait for every table of the pipeline (or it requires).
  for (const p of pipelines) {
    const tables = [...p.sources.flatMap((s) => s.tables.map((t) => `${s.name}.${t.table.table}`)), ...p.requires.flatMap((r) => r.tables)];
    for (const step of p.steps) {
      if (step.after.length === 0) {
        step.after = tables;
        report.add(p.dig?.file ?? '(steps)', undefined, 'changed', `step ${step.name} waits for nothing`, 'a SQL step runs after nodes it names: it now waits for every table of the pipeline; narrow its after: to the tables it reads');
      }
    }
  }

  const kept = pipelines.filter((p) => p.sources.length > 0 || (p.requires.length > 0 && p.steps.length > 0));
  for (const p of pipelines) if (!kept.includes(p) && p.dig) report.add(p.dig.file, undefined, 'unmapped', 'no tables, and no SQL steps after another workflow\'s tables', 'nothing to import from this workflow');
  const projects = new Set(kept.flatMap((p) => p.sources.map((s) => s.connection.project).filter((x): x is string => Boolean(x) && !x!.includes('{{'))));
  if (projects.size > 1) report.add('(project)', undefined, 'changed', `projects ${[...projects].join(', ')}`, `one BigQuery project per config: ${[...projects][0]} is used`);
  const location = kept.flatMap((p) => p.sources.map((s) => s.connection.location)).find(Boolean);

  const config = {
    bigquery: { project: envRefs([...projects][0] ?? '${GCP_PROJECT}'), ...(location ? { location } : {}) },
    sources: Object.fromEntries(kept.flatMap((p) => p.sources.map((s) => [s.name, sourceConfig(s)]))),
    pipelines: Object.fromEntries(kept.map((p) => [p.name, pipelineConfig(p)])),
  };
  const header = [
    `# Made by bqsync import from ${path.basename(path.resolve(dir))}. See bqsync-import-report.md beside it for what was not carried over.`,
    '# Connection URLs (with their passwords) go into these environment variables:',
    ...Object.entries(variables).map(([v, what]) => `#   ${v}=${what}`),
    '',
  ].join('\n');
  return {
    yaml: header + stringify(config, { lineWidth: 0 }),
    report,
    tables: Object.fromEntries(kept.map((p) => [p.name, p.sources.flatMap((s) => s.tables.map((t) => `${s.name}.${t.table.table}`))])),
    variables,
  };
}

function sourceConfig(s: SourceOut): Record<string, unknown> {
  const c = s.connection;
  return {
    type: c.type,
    url: `\${${s.urlVar}}`,
    schema: envRefs(c.schema),
    ...(c.dataset && c.dataset !== s.name ? { dataset: envRefs(c.dataset) } : {}),
    tables: s.tables.map(({ table: t, after }) => {
      const entry: Record<string, unknown> = { name: t.table };
      if (t.destination) entry.destination = envRefs(t.destination);
      if (t.mode !== 'replace') entry.mode = t.mode;
      if (t.cursor) entry.cursor = t.cursor;
      if (t.key) entry.key = t.key;
      if (t.where) entry.where = t.where;
      if (t.partitionBy) entry.partitionBy = t.partitionBy;
      if (t.clusterBy) entry.clusterBy = t.clusterBy;
      if (after.length) entry.after = after;
      return Object.keys(entry).length === 1 ? t.table : entry;
    }),
  };
}

function pipelineConfig(p: PipelineOut): Record<string, unknown> {
  const dig = p.dig;
  const out: Record<string, unknown> = { description: dig ? `Imported from ${dig.file}` : 'Embulk configs that no .dig file runs' };
  if (dig?.schedule) out.schedule = { ...dig.schedule, timezone: dig.timezone ?? 'UTC' };
  else if (dig?.timezone) out.timezone = dig.timezone;
  out.sources = p.sources.map((s) => s.name);
  if (p.requires.length) out.requires = p.requires;
  if (dig?.parallelLimit) out.concurrency = dig.parallelLimit;
  if (dig?.retry) out.retry = dig.retry;
  if (p.steps.length) {
    out.steps = p.steps.map((s) => ({ name: s.name, description: s.description, after: s.after, ...(s.dataset ? { dataset: s.dataset } : {}), ...(s.retry ? { retry: s.retry } : {}), sql: s.sql }));
  }
  if (dig?.notifyOnError || dig?.sla) out.notify = { webhookUrlEnv: 'BQSYNC_WEBHOOK_URL' };
  if (dig?.sla) out.sla = dig.sla;
  return out;
}

/** A bq> task as a SQL step: its query, written into its destination_table as Digdag's bq> would. */
function sqlStep(node: DigNode, dig: DigWorkflow, dir: string, report: ImportReport, taken: Set<string>): StepOut | undefined {
  const rel = path.relative(dir, node.file);
  const raw = fs.readFileSync(node.file, 'utf8');
  const mapped = mapDigdagVariables(raw, node.exports);
  for (const u of mapped.unmapped) {
    const line = raw.split('\n').findIndex((l) => l.includes(u)) + 1;
    report.add(rel, line || undefined, 'unmapped', u, 'a Digdag variable bqsync has no equivalent for: the step fails with "unknown placeholder" until it is replaced by a session value or a literal');
  }
  let sql = mapped.text.trim().replace(/;\s*$/, '');
  let dataset: string | undefined;
  if (node.destinationTable) {
    const m = /^(?:([A-Za-z0-9_-]+)[:.])?([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(node.destinationTable);
    if (!m) {
      report.add(dig.file, node.line, 'unmapped', `destination_table: ${node.destinationTable}`, 'not a dataset.table name bqsync can write; the step was not imported');
      return undefined;
    }
    dataset = m[2];
    const target = `\`{{project}}.{{dataset}}.${m[3]}\``;
    const disposition = node.writeDisposition ?? 'WRITE_TRUNCATE';
    if (disposition === 'WRITE_APPEND') sql = `INSERT INTO ${target}\n${sql}`;
    else {
      sql = `CREATE OR REPLACE TABLE ${target} AS\n${sql}`;
      if (disposition !== 'WRITE_TRUNCATE') {
        report.add(dig.file, node.line, 'changed', `write_disposition: ${disposition}`, 'mapped to CREATE OR REPLACE TABLE (as WRITE_TRUNCATE)');
      }
    }
  }
  return {
    name: unique(safeName(node.name, 'step'), taken),
    after: [],
    dataset,
    sql: `${sql}\n`,
    description: `bq> ${rel}${node.destinationTable ? ` into ${node.destinationTable}` : ''} (${dig.file})`,
    ...(node.retry && { retry: node.retry }),
  };
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.')) return [];
    const f = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(f) : [f];
  }).sort();
}

function looksLikeEmbulk(file: string): boolean {
  const text = fs.readFileSync(file, 'utf8');
  return /^in:/m.test(text) && /^out:/m.test(text);
}
