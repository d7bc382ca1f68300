import { envReferences, loadConfig, staticDagNodes } from '../../config/load';
import { parallelRangesWarnings } from '../../config/parallel-ranges-warnings';

/** Checks the config file; prints what it declares and which environment variables are unset. */
export function validateCommand(file: string, json = false): number {
  const { config } = loadConfig(file);
  const lines: string[] = [`${file}: valid`];
  const unset = new Set<string>();
  const sources = [];
  const pipelines = [];
  for (const [name, source] of Object.entries(config.sources)) {
    for (const url of [source.url, source.replica?.url ?? '']) {
      const defaulted = /\$\{[^}]*:-/.test(url);
      for (const v of envReferences(url)) if (!process.env[v] && !defaulted) unset.add(v);
    }
    const listed = source.tables?.length ?? 0;
    const discover = source.discover ? ` + all tables matching ${source.discover.include.join(',')}` : '';
    sources.push({ name, type: source.type, listedTables: listed, discover: source.discover?.include, concurrency: source.concurrency });
    const replica = source.replica ? `; replica for ${source.replica.useFor.join(', ')}` : '';
    lines.push(`  source ${name} (${source.type}): ${listed} listed tables${discover}, at most ${source.concurrency} at once${replica}`);
  }
  for (const [name, pipeline] of Object.entries(config.pipelines)) {
    const nodes = staticDagNodes(config, name);
    const withAfter = nodes.filter((n) => n.after.length).length;
    pipelines.push({ name, sources: pipeline.sources, steps: pipeline.steps.length, nodesWithAfter: withAfter, concurrency: pipeline.concurrency });
    lines.push(
      `  pipeline ${name}: sources ${pipeline.sources.join(', ')}; ${pipeline.steps.length} SQL steps; ` +
        `${withAfter} nodes with after:; at most ${pipeline.concurrency} tables at once`,
    );
  }
  if (unset.size) lines.push(`  warning: environment variables not set here: ${[...unset].join(', ')} (workers need them)`);
  const warnings = parallelRangesWarnings(config);
  for (const w of warnings) lines.push(`  warning: ${w}`);
  console.log(json ? JSON.stringify({ file, valid: true, sources, pipelines, unsetVariables: [...unset], warnings }, null, 2) : lines.join('\n'));
  return 0;
}
