import type { LoadedConfig } from '../config/load';
import { destinationName, listedLandings, mergedTableSettings, tableName } from '../config/load';
import { destinationConflicts } from '../config/destination-conflicts';
import { tableSettingsProblems } from '../config/table-settings';
import { findCycle, findUnknownReferences } from '../config/dag';
import type { PipelineConfig, RetryConfig, TableEntry } from '../config/schema';
import { pipelineCadence, pipelineSessionValues, pipelineTimeZone } from '../config/session';
import type { PipelineRequirement, RetrySetting, RunDeadline, RunPlan, TableTask } from '../common/payloads';
import { nextWallTime } from '../common/session-time';
import { durationMs } from '../common/duration';
import { discoveredTables, nothingDiscoveredMessage } from '../config/discovery';
import { configFailure } from '../common/failures';
import { openSource } from '../sources/open-source';
import { driverFor } from '../sources/registry';

/** Full loads of tables larger than this are read, and resumed, in key ranges. */
const DEFAULT_CHUNK_ROWS = 2_000_000;

export interface PlanRunInput {
  pipeline: string;
  /** Only these `source.table` keys; the whole pipeline when absent. */
  tables?: string[];
  /** Rebuild incremental tables from scratch (`--full-refresh`). */
  fullRefresh?: boolean;
  /** When the run started: its `sla:` deadline counts from it (whole-pipeline runs only). */
  startedAt?: string;
  /** The run's session time: the date other pipelines' runs must stand for (requires:). */
  sessionTime?: string;
}

/**
 * Decides what a run syncs: the tables each source lists, plus the ones discovery finds,
 * with settings merged (source defaults, then the table's entry) and the DAG checked.
 */
export function makePlanRun(loaded: LoadedConfig) {
  return async function planRun(input: PlanRunInput): Promise<RunPlan> {
    const { config, file } = loaded;
    const pipeline = config.pipelines[input.pipeline];
    if (!pipeline) {
      throw configFailure(
        `pipeline "${input.pipeline}" is not declared in ${file}; declared: ${Object.keys(config.pipelines).join(', ')}`,
      );
    }
    const wanted = input.tables ? new Set(input.tables) : undefined;
    const wantedSources = wanted ? new Set([...wanted].map((k) => k.split('.')[0])) : undefined;
    const tables: TableTask[] = [];
    for (const sourceName of pipeline.sources) {
      if (wantedSources && !wantedSources.has(sourceName)) continue;
      const entries = await sourceEntries(loaded, sourceName, !wanted);
      for (const [name, entry] of entries) tables.push(tableTask(loaded, sourceName, name, entry, input.fullRefresh, pipeline));
    }
    const conflicts = discoveredConflicts(loaded, tables);
    const refused = new Set(conflicts.map((c) => c.key));
    const steps = pipeline.steps.map((s) => ({ key: s.name, after: s.after, description: s.description, owner: s.owner, impact: s.impact, retry: retrySetting(s.retry) }));
    // Required tables of other pipelines have landed before anything starts: met, not waited for in the DAG.
    const required = new Set(pipeline.requires.flatMap((r) => r.tables));
    for (const node of [...tables, ...steps]) node.after = node.after.filter((a) => !required.has(a));
    const known = new Set([...tables, ...steps].map((n) => n.key));
    if (!wanted) checkDag(file, input.pipeline, [...tables, ...steps], known);
    return {
      pipeline: input.pipeline,
      tables: tables.filter((t) => (!wanted || wanted.has(t.key)) && !refused.has(t.key)),
      // Steps run only in a whole-pipeline run; "sync this table now" runs just the tables.
      steps: wanted ? [] : steps,
      sourceConcurrency: Object.fromEntries(pipeline.sources.map((s) => [s, config.sources[s].concurrency])),
      globalConcurrency: pipeline.concurrency,
      heartbeatTimeout: String(pipeline.heartbeatTimeout),
      retry: retrySetting(pipeline.retry),
      unknown: wanted ? unknownTables(input.pipeline, pipeline.sources, [...wanted], known) : [],
      conflicts: wanted ? conflicts.filter((c) => wanted.has(c.key)) : conflicts,
      ...(pipeline.sla && input.startedAt && !wanted ? { sla: runDeadline(pipeline, input.startedAt) } : {}),
      ...(pipeline.requires.length > 0 && input.sessionTime && !wanted ? { requires: requirements(config, pipeline, input.sessionTime) } : {}),
    };
  };
}

/** A `retry:` of the config as the workflows take it. */
function retrySetting(retry: RetryConfig): RetrySetting {
  return { attempts: retry.attempts, initialInterval: String(retry.interval), maximumInterval: String(retry.maxInterval) };
}

/** What the run waits for before it starts: each required pipeline's tables, for this run's session date. */
function requirements(config: LoadedConfig['config'], pipeline: PipelineConfig, sessionTime: string): PipelineRequirement[] {
  const sessionDate = pipelineSessionValues(pipeline, sessionTime).session_date;
  return pipeline.requires.map((r) => ({
    pipeline: r.pipeline,
    tables: r.tables,
    sessionDate,
    timeZone: pipelineTimeZone(config.pipelines[r.pipeline]),
    timeoutMs: durationMs(String(r.timeout)),
  }));
}

/** The run's deadline: a time of day in the pipeline's zone at or after its start, or a duration after it. */
export function runDeadline(pipeline: PipelineConfig, startedAt: string): RunDeadline {
  const sla = pipeline.sla!;
  if (sla.time) {
    const zone = pipelineTimeZone(pipeline);
    return { deadline: nextWallTime(startedAt, sla.time, zone), rule: `time ${sla.time} ${zone}` };
  }
  return { deadline: new Date(Date.parse(startedAt) + durationMs(String(sla.after))).toISOString(), rule: `after ${String(sla.after)}` };
}

/**
 * The tables of one source: discovered ones (when it discovers), then the listed ones,
 * which win. A whole-pipeline run fails rather than quietly copying nothing from a source.
 */
async function sourceEntries(loaded: LoadedConfig, sourceName: string, wholePipeline: boolean): Promise<Map<string, TableEntry>> {
  const source = loaded.config.sources[sourceName];
  const entries = new Map<string, TableEntry>();
  let all: string[] = [];
  if (source.discover) {
    const reader = await openSource(loaded, sourceName, 'plan');
    try {
      all = await reader.listTables();
    } finally {
      await reader.close();
    }
    for (const t of discoveredTables(all, source.discover)) entries.set(t, t);
  }
  for (const entry of source.tables ?? []) entries.set(tableName(entry), entry);
  if (wholePipeline && source.discover && entries.size === 0) {
    const schema = source.schema ?? driverFor(source.type).defaultSchema;
    throw configFailure(nothingDiscoveredMessage(loaded.file, sourceName, schema, source.discover, all));
  }
  return entries;
}

/** One table's task: its settings merged and checked, as the table sync needs them. */
function tableTask(loaded: LoadedConfig, sourceName: string, name: string, entry: TableEntry, fullRefresh: boolean | undefined, pipelineConfig: PipelineConfig): TableTask {
  const source = loaded.config.sources[sourceName];
  const settings = mergedTableSettings(source, entry);
  const problems = tableSettingsProblems(settings);
  if (problems.length > 0) {
    // Reached only by discovered tables: listed ones were checked when the file was read.
    throw configFailure(`${loaded.file}: sources.${sourceName}.defaults, for discovered table "${name}": ${problems.join('; ')}`);
  }
  return {
    key: `${sourceName}.${name}`,
    source: sourceName,
    table: name,
    dataset: source.dataset ?? sourceName,
    destination: destinationName(source, entry),
    after: settings.after ?? [],
    invalidValues: settings.invalidValues ?? 'null',
    mode: settings.mode ?? 'replace',
    ...((settings.verify ?? pipelineConfig.verify) === 'checksum' && { verify: 'checksum' as const }),
    keyColumns: settings.key,
    cursor: settings.cursor,
    overlap: settings.overlap as string | number | undefined,
    deleteWhen: settings.deleteWhen,
    where: settings.where,
    // What the table sync needs to compute the session values of its where: condition.
    ...(settings.where ? { timeZone: pipelineTimeZone(pipelineConfig), cadence: pipelineCadence(pipelineConfig) } : {}),
    columns: settings.columns,
    partitionBy: settings.partitionBy,
    clusterBy: settings.clusterBy,
    chunkRows: settings.chunkRows ?? DEFAULT_CHUNK_ROWS,
    ...(settings.parallelRanges && settings.parallelRanges > 1 && { parallelRanges: settings.parallelRanges }),
    fullRefresh: fullRefresh || undefined,
    discovered: typeof entry === 'string' && !(source.tables ?? []).includes(entry) ? true : undefined,
    description: settings.description,
    owner: settings.owner,
    impact: settings.impact,
  };
}

/**
 * Discovered tables that would land in a BigQuery table another table lands in (a listed
 * one of any source, or another discovered one): they fail rather than overwrite each other.
 * Listed tables are checked when the file is read.
 */
function discoveredConflicts(loaded: LoadedConfig, tables: TableTask[]): { key: string; message: string }[] {
  const discovered = tables
    .filter((t) => t.discovered)
    .map((t) => ({ key: t.key, entry: `table "${t.table}" discovered in source ${t.source}`, dataset: t.dataset, destination: t.destination }))
    // By code unit: a case-insensitive catalog lists "x_A" and "x_a" in either order, and the
    // message must name them the same way every run.
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const isDiscovered = new Set(discovered.map((d) => d.key));
  const failed = new Map<string, string>();
  for (const c of destinationConflicts([...listedLandings(loaded.config), ...discovered])) {
    for (const side of [c.landing, c.first]) if (isDiscovered.has(side.key) && !failed.has(side.key)) failed.set(side.key, c.message);
  }
  return [...failed].map(([key, message]) => ({ key, message }));
}

/** A whole-pipeline run's DAG: every after: names a node of the run, and there is no cycle. */
function checkDag(file: string, pipeline: string, nodes: { key: string; after: string[] }[], known: Set<string>): void {
  const problems = findUnknownReferences(nodes, (ref) => known.has(ref)).map((p) => p.message);
  const cycle = findCycle(nodes);
  if (cycle) problems.push(`the after: dependencies form a cycle: ${cycle.join(' -> ')}`);
  if (problems.length > 0) throw configFailure(`${file}: pipelines.${pipeline}: ${problems.join('; ')}`);
}

/** Requested tables that are not tables of the pipeline, each with the reason. */
function unknownTables(pipeline: string, sources: string[], wanted: string[], known: Set<string>): RunPlan['unknown'] {
  return wanted
    .filter((k) => !known.has(k))
    .map((key) => ({ key, message: `${key} is not a table of pipeline "${pipeline}" (expected source.table; sources: ${sources.join(', ')})` }));
}
