import picomatch from 'picomatch';
import type { LoadedConfig } from '../config/load';
import { tableName } from '../config/load';
import { findCycle, findUnknownReferences } from '../config/dag';
import type { TableEntry } from '../config/schema';
import type { RunPlan, TableTask } from '../workflows/types';
import { configFailure } from './errors';
import { openSource } from './open-source';

export interface PlanRunInput {
  pipeline: string;
  /** Only these `source.table` keys; the whole pipeline when absent. */
  tables?: string[];
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
      const source = config.sources[sourceName];
      const entries = new Map<string, TableEntry>();
      if (source.discover) {
        const include = picomatch(source.discover.include);
        const exclude = source.discover.exclude.length ? picomatch(source.discover.exclude) : () => false;
        const reader = await openSource(loaded, sourceName);
        try {
          for (const t of await reader.listTables()) if (include(t) && !exclude(t)) entries.set(t, t);
        } finally {
          await reader.close();
        }
      }
      for (const entry of source.tables ?? []) entries.set(tableName(entry), entry);
      for (const [name, entry] of entries) {
        const settings = { ...source.defaults, ...(typeof entry === 'string' ? {} : entry) };
        tables.push({
          key: `${sourceName}.${name}`,
          source: sourceName,
          table: name,
          dataset: source.dataset ?? sourceName,
          destination: (typeof entry === 'string' ? undefined : entry.destination) ?? name,
          after: settings.after ?? [],
          invalidValues: settings.invalidValues ?? 'null',
          mode: settings.mode ?? 'replace',
          description: settings.description,
          owner: settings.owner,
          impact: settings.impact,
        });
      }
    }

    const steps = pipeline.steps.map((s) => ({
      key: s.name,
      after: s.after,
      description: s.description,
      owner: s.owner,
      impact: s.impact,
    }));
    const nodes = [...tables, ...steps];
    const known = new Set(nodes.map((n) => n.key));
    const problems = findUnknownReferences(nodes, (ref) => known.has(ref)).map((p) => p.message);
    const cycle = findCycle(nodes);
    if (cycle) problems.push(`the after: dependencies form a cycle: ${cycle.join(' -> ')}`);
    if (!wanted && problems.length > 0) throw configFailure(`${file}: pipelines.${input.pipeline}: ${problems.join('; ')}`);

    const selected = wanted ? tables.filter((t) => wanted.has(t.key)) : tables;
    const unknown = wanted
      ? [...wanted]
          .filter((k) => !known.has(k))
          .map((key) => ({
            key,
            message: `${key} is not a table of pipeline "${input.pipeline}" (expected source.table; sources: ${pipeline.sources.join(', ')})`,
          }))
      : [];
    return {
      pipeline: input.pipeline,
      tables: selected,
      // Steps run only in a whole-pipeline run; "sync this table now" runs just the tables.
      steps: wanted ? [] : steps,
      sourceConcurrency: Object.fromEntries(pipeline.sources.map((s) => [s, config.sources[s].concurrency])),
      globalConcurrency: pipeline.concurrency,
      unknown,
    };
  };
}
