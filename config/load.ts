import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { Config, configSchema, SourceConfig, SourceUse, TableEntry, TableSettings } from './schema';
import { tableSettingsProblems } from './table-settings';
import { findCycle, findUnknownReferences, DagNode } from './dag';
import { isValidBigQueryTableName } from '../bigquery/names';
import { destinationConflicts, Landing } from './destination-conflicts';

/** A problem in the config file; the message names the file and the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : '\n  - ' + problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  file: string;
  config: Config;
}

export const DEFAULT_CONFIG_FILE = 'bqsync.yaml';

/** The config file to use: the explicit path, else BQSYNC_CONFIG, else ./bqsync.yaml. */
export function configPath(explicit?: string): string {
  return path.resolve(explicit ?? process.env.BQSYNC_CONFIG ?? DEFAULT_CONFIG_FILE);
}

export function loadConfig(file: string = configPath()): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        'pass --config PATH or set BQSYNC_CONFIG',
    ]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): LoadedConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      // The parser's message repeats the position ("at line 8, column 1:"); it is given once, first.
      doc.errors.map(
        (e) =>
          `YAML syntax error at line ${e.linePos?.[0].line ?? '?'}, column ${e.linePos?.[0].col ?? '?'}: ` +
          e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
      ),
    );
  }
  const parsed = configSchema.safeParse(expandNonSecretEnv(doc.toJS()));
  if (!parsed.success) throw new ConfigError(file, parsed.error.issues.map(describeIssue));
  const config = parsed.data;
  const problems = [...literalSecretProblems(config), ...crossReferenceProblems(config)];
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { file, config };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.map(String).join('.') || '(top level)';
  if (issue.code === 'invalid_union' && issue.errors.length > 0) return describeUnionIssue(issue, key);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => `unknown key "${key === '(top level)' ? k : `${key}.${k}`}"; remove it or check its spelling`)
      .join('; ');
  }
  return `${key}: ${issue.message}`;
}

/**
 * A value that fits none of a union's forms (a table entry is a name or { name: ... }).
 * The form whose problems lie deepest is the one the author meant: its problems, with
 * their keys, say more than zod's bare "Invalid input". When no form got past the type,
 * say which types would do.
 */
function describeUnionIssue(issue: z.core.$ZodIssueInvalidUnion, key: string): string {
  const depth = (branch: z.core.$ZodIssue[]) => Math.max(...branch.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 1)));
  const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  if (depth(best) > 0) return best.map((i) => describeIssue({ ...i, path: [...issue.path, ...i.path] })).join('; ');
  const expected = issue.errors.flat().map((i) => (i.code === 'invalid_type' ? i.expected : undefined)).filter(Boolean);
  return `${key}: Invalid input: expected ${[...new Set(expected)].join(' or ')}`;
}

// `${VAR}` and `${VAR:-default}` anywhere in a string.
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Keys whose values are secrets: source URLs and TLS keys, the Temporal API key and TLS private key. */
function isSecretKey(keyPath: string[]): boolean {
  const key = keyPath.join('.');
  const sourceSecret =
    keyPath[0] === 'sources' &&
    ((keyPath.length === 3 && keyPath[2] === 'url') ||
      (keyPath.length === 4 && keyPath[2] === 'replica' && keyPath[3] === 'url') ||
      (keyPath.length === 4 && keyPath[2] === 'tls' && keyPath[3] === 'key'));
  return sourceSecret || key === 'temporal.apiKey' || key === 'temporal.tls.key';
}

/**
 * Replaces environment references everywhere except in secrets (source URLs, the Temporal
 * API key and TLS key): they stay as written and are resolved only when a connection is opened.
 */
function expandNonSecretEnv(value: unknown, keyPath: string[] = []): unknown {
  if (typeof value === 'string') {
    return isSecretKey(keyPath) ? value : value.replace(ENV_REF, (_m, name: string, dflt?: string) => process.env[name] ?? dflt ?? '');
  }
  if (Array.isArray(value)) return value.map((v, i) => expandNonSecretEnv(v, [...keyPath, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandNonSecretEnv(v, [...keyPath, k])]));
  }
  return value;
}

/** The environment variables a source URL needs, for error messages and `validate`. */
export function envReferences(text: string): string[] {
  return [...text.matchAll(ENV_REF)].map((m) => m[1]);
}

/**
 * Resolves a source URL from the environment. Throws an error naming the variable when it
 * is unset. The result is a secret: never log it, never pass it to a workflow.
 */
export function resolveSourceUrl(sourceName: string, source: SourceConfig, file = 'the config file'): string {
  return resolveSecret(source.url, `sources.${sourceName}.url`, file);
}

/** The URL a use of the source connects to: its replica's when `replica.useFor` names the use. */
export interface SourceEndpoint {
  url: string;
  /** The config key the URL came from, for messages: `sources.shop.url` or `sources.shop.replica.url`. */
  key: string;
  replica: boolean;
}

/** Resolves the URL for one use of a source (see resolveSourceUrl); a secret, never log it. */
export function resolveSourceEndpoint(sourceName: string, source: SourceConfig, use: SourceUse, file = 'the config file'): SourceEndpoint {
  const replica = Boolean(source.replica?.useFor.includes(use));
  const key = replica ? `sources.${sourceName}.replica.url` : `sources.${sourceName}.url`;
  return { url: resolveSecret(replica ? source.replica!.url : source.url, key, file), key, replica };
}

/**
 * Resolves a secret config value (written as `${VAR}`) from the environment; the error names
 * the key and the variable when it is unset. Never log the result.
 */
export function resolveSecret(value: string, key: string, file = 'the config file'): string {
  const missing: string[] = [];
  const resolved = value.replace(ENV_REF, (_m, name: string, dflt?: string) => {
    const v = process.env[name];
    if (v !== undefined && v !== '') return v;
    if (dflt !== undefined) return dflt;
    missing.push(name);
    return '';
  });
  if (missing.length > 0) {
    throw new ConfigError(file, [
      `${key} needs the environment variable ${missing.join(', ')}, which is not set; ` +
        'set it (or put it in .env for local use)',
    ]);
  }
  return resolved;
}

function literalSecretProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const [name, source] of Object.entries(config.sources)) {
    const urls: [key: string, value: string | undefined, variable: string][] = [
      [`sources.${name}.url`, source.url, `${name.toUpperCase()}_URL`],
      [`sources.${name}.replica.url`, source.replica?.url, `${name.toUpperCase()}_REPLICA_URL`],
    ];
    for (const [key, value, variable] of urls) {
      // Only what is written literally counts; whatever comes from ${...} is fine.
      const literal = (value ?? '').replace(ENV_REF, '');
      if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(literal) || /[?&]password=/i.test(literal)) {
        problems.push(`${key} holds a literal password; put the URL in an environment variable and write url: \${${variable}}`);
      }
    }
    const tlsKey = source.tls?.key;
    if (tlsKey !== undefined && envReferences(tlsKey).length === 0) {
      problems.push(
        `sources.${name}.tls.key is written in the file; it is a secret: write key: \${${name.toUpperCase()}_TLS_KEY} ` +
          'and set that environment variable, or give keyFile: with a path',
      );
    }
  }
  const { apiKey, tls } = config.temporal;
  const secrets: [key: string, value: string | undefined, suggestion: string][] = [
    ['temporal.apiKey', apiKey, 'apiKey: ${TEMPORAL_API_KEY}'],
    ['temporal.tls.key', typeof tls === 'object' ? tls.key : undefined, 'key: ${TEMPORAL_TLS_KEY}'],
  ];
  for (const [key, value, suggestion] of secrets) {
    if (value !== undefined && envReferences(value).length === 0) {
      problems.push(`${key} is written in the file; it is a secret: write ${suggestion} and set that environment variable`);
    }
  }
  return problems;
}

export function tableName(entry: TableEntry): string {
  return typeof entry === 'string' ? entry : entry.name;
}

/** A table's settings: the source's defaults, overridden by the table's own entry. */
export function mergedTableSettings(source: SourceConfig, entry: TableEntry): TableSettings {
  const own = typeof entry === 'string' ? {} : (({ name: _n, destination: _d, ...rest }) => rest)(entry);
  return { ...source.defaults, ...own };
}

/** The BigQuery table a source table lands in: its destination:, else the naming rules. */
export function destinationName(source: SourceConfig, entry: TableEntry): string {
  if (typeof entry !== 'string' && entry.destination) return entry.destination;
  const name = tableName(entry);
  const naming = source.naming;
  if (!naming) return name;
  return naming.tablePrefix + (naming.case === 'lower' ? name.toLowerCase() : name);
}

function crossReferenceProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const [sourceName, source] of Object.entries(config.sources)) {
    if (!source.tables?.length && !source.discover) {
      problems.push(`sources.${sourceName} declares no tables; add tables: [...] or discover: { include: [...] }`);
    }
    const seen = new Set<string>();
    for (const entry of source.tables ?? []) {
      const t = tableName(entry);
      if (seen.has(t)) problems.push(`sources.${sourceName}.tables lists "${t}" twice`);
      seen.add(t);
      for (const p of tableSettingsProblems(mergedTableSettings(source, entry))) {
        problems.push(`sources.${sourceName}.tables "${t}": ${p}`);
      }
      // A destination: written in the file is checked now, not when the table's sync fails.
      if (typeof entry !== 'string' && entry.destination !== undefined && !isValidBigQueryTableName(entry.destination)) {
        problems.push(
          `sources.${sourceName}.tables "${t}": destination ${JSON.stringify(entry.destination)} is not a valid BigQuery table name ` +
            '(letters, marks, digits, underscores, dashes and spaces, at most 1,024)',
        );
      }
    }
    if (source.defaults && !source.tables?.length) {
      for (const p of tableSettingsProblems(source.defaults)) problems.push(`sources.${sourceName}.defaults: ${p}`);
    }
  }
  for (const c of destinationConflicts(listedLandings(config))) problems.push(c.message);
  const cycle = requirementCycle(config);
  if (cycle) problems.push(`pipelines: the requires: between pipelines form a cycle: ${cycle.join(' -> ')}`);
  for (const [pipelineName, pipeline] of Object.entries(config.pipelines)) {
    const where = `pipelines.${pipelineName}`;
    for (const s of pipeline.sources) {
      if (!config.sources[s]) problems.push(`${where}.sources names "${s}", which is not declared under sources:`);
    }
    if (pipeline.sources.length === 0 && pipeline.requires.length === 0) problems.push(`${where}.sources: name at least one source (or requires: another pipeline's tables)`);
    problems.push(...requirementProblems(config, pipelineName));
    const stepNames = new Set<string>();
    for (const step of pipeline.steps) {
      if (stepNames.has(step.name)) problems.push(`${where}.steps has two steps named "${step.name}"`);
      stepNames.add(step.name);
    }
    const nodes = staticDagNodes(config, pipelineName);
    const discovering = new Set(pipeline.sources.filter((s) => config.sources[s]?.discover));
    const known = new Set([...nodes.map((n) => n.key), ...pipeline.requires.flatMap((r) => r.tables)]);
    const isKnown = (ref: string) => known.has(ref) || discovering.has(ref.split('.')[0]);
    for (const p of findUnknownReferences(nodes, isKnown)) problems.push(`${where}: ${p.message}`);
    const cycle = findCycle(nodes);
    if (cycle) problems.push(`${where}: the after: dependencies form a cycle: ${cycle.join(' -> ')}`);
  }
  return problems;
}

/** A pipeline's requires: name pipelines that exist and tables those pipelines sync. */
function requirementProblems(config: Config, pipelineName: string): string[] {
  const problems: string[] = [];
  config.pipelines[pipelineName].requires.forEach((r, i) => {
    const where = `pipelines.${pipelineName}.requires.${i}`;
    const other = config.pipelines[r.pipeline];
    if (!other) return problems.push(`${where}.pipeline names "${r.pipeline}", which is not declared under pipelines:`);
    if (r.pipeline === pipelineName) return problems.push(`${where}.pipeline names the pipeline itself`);
    for (const key of r.tables) {
      const [sourceName, ...rest] = key.split('.');
      const source = other.sources.includes(sourceName) ? config.sources[sourceName] : undefined;
      const listed = source?.tables?.some((e) => tableName(e) === rest.join('.'));
      if (!source || (!listed && !source.discover)) {
        problems.push(`${where}.tables names "${key}", which is not a table of pipeline ${r.pipeline} (its sources: ${other.sources.join(', ') || 'none'})`);
      }
    }
  });
  return problems;
}

/** A cycle of requires: between pipelines (a waits for b, b for a), as the names along it. */
function requirementCycle(config: Config): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const walk = (p: string, path: string[]): string[] | undefined => {
    if (state.get(p) === 'done') return undefined;
    if (state.get(p) === 'open') return [...path.slice(path.indexOf(p)), p];
    state.set(p, 'open');
    for (const r of config.pipelines[p]?.requires ?? []) {
      const found = config.pipelines[r.pipeline] ? walk(r.pipeline, [...path, p]) : undefined;
      if (found) return found;
    }
    state.set(p, 'done');
    return undefined;
  };
  for (const p of Object.keys(config.pipelines)) {
    const found = walk(p, []);
    if (found) return found;
  }
  return undefined;
}

/** Where every listed table lands in BigQuery, in the order of the file. */
export function listedLandings(config: Config): Landing[] {
  return Object.entries(config.sources).flatMap(([sourceName, source]) =>
    (source.tables ?? []).map((entry) => ({
      key: `${sourceName}.${tableName(entry)}`,
      entry: `sources.${sourceName}.tables "${tableName(entry)}"`,
      dataset: source.dataset ?? sourceName,
      destination: destinationName(source, entry),
    })),
  );
}

/** The DAG as far as the config file alone tells it (discovered tables join at run time). */
export function staticDagNodes(config: Config, pipelineName: string): DagNode[] {
  const pipeline = config.pipelines[pipelineName];
  const nodes: DagNode[] = [];
  for (const sourceName of pipeline.sources) {
    const source = config.sources[sourceName];
    if (!source) continue;
    for (const entry of source.tables ?? []) {
      const after = (typeof entry === 'string' ? undefined : entry.after) ?? source.defaults?.after ?? [];
      nodes.push({ key: `${sourceName}.${tableName(entry)}`, after });
    }
  }
  for (const step of pipeline.steps) nodes.push({ key: step.name, after: step.after });
  return nodes;
}
