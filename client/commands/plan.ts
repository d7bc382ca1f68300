import { makePlanRun } from '../../activities/plan-run';
import type { LoadedConfig } from '../../config/load';
import type { RunPlan } from '../../common/payloads';
import { dagLevels } from '../dag-levels';

/**
 * What a run of the pipeline would sync, computed here in the CLI process with the same
 * planning code the worker's planRun activity runs: discovery reads the sources, whose
 * URLs come from this process's environment (or .env). Nothing starts in Temporal, so a
 * plan needs no worker and leaves no run behind; it needs the sources reachable from here.
 */
export async function planPipeline(loaded: LoadedConfig, pipeline: string): Promise<RunPlan> {
  return makePlanRun(loaded)({ pipeline });
}

export function planView(loaded: LoadedConfig, plan: RunPlan) {
  const { levels, cyclic } = dagLevels([...plan.tables, ...plan.steps]);
  return {
    pipeline: plan.pipeline,
    tables: plan.tables.map((t) => ({
      key: t.key,
      mode: t.mode,
      destination: `${loaded.config.bigquery.project}.${t.dataset}.${t.destination}`,
      after: t.after,
      invalidValues: t.invalidValues,
    })),
    steps: plan.steps.map((s) => ({ key: s.key, after: s.after })),
    levels,
    cyclic,
    limits: { perRun: plan.globalConcurrency, perSource: plan.sourceConcurrency },
  };
}

export async function planCommand(loaded: LoadedConfig, pipeline: string, json: boolean): Promise<number> {
  const view = planView(loaded, await planPipeline(loaded, pipeline));
  if (json) {
    console.log(JSON.stringify(view, null, 2));
    return 0;
  }
  const modes = new Map(view.tables.map((t) => [t.key, t.mode]));
  console.log(
    `pipeline ${pipeline}: ${view.tables.length} tables, ${view.steps.length} SQL steps; ` +
      `at most ${view.limits.perRun} tables at once, per source: ` +
      Object.entries(view.limits.perSource).map(([s, n]) => `${s} ${n}`).join(', '),
  );
  view.levels.forEach((keys, i) => {
    console.log(`level ${i}${i === 0 ? ' (start at once, within the limits)' : ` (after level ${i - 1} nodes they name)`}:`);
    for (const key of keys) {
      const t = view.tables.find((x) => x.key === key);
      const after = [...(t?.after ?? view.steps.find((s) => s.key === key)?.after ?? [])];
      console.log(`  ${key}  ${modes.get(key) ?? 'SQL step'}${t ? ` -> ${t.destination}` : ''}${after.length ? `  after ${after.join(', ')}` : ''}`);
    }
  });
  if (view.cyclic.length) console.log(`in a cycle (never run): ${view.cyclic.join(', ')}`);
  return 0;
}
