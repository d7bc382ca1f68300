import { envReferences, loadConfig, staticDagNodes } from '../../config/load';

/** Checks the config file; prints what it declares and which environment variables are unset. */
export function validateCommand(file: string): number {
  const { config } = loadConfig(file);
  const lines: string[] = [`${file}: valid`];
  const unset = new Set<string>();
  for (const [name, source] of Object.entries(config.sources)) {
    const vars = envReferences(source.url);
    const defaulted = /\$\{[^}]*:-/.test(source.url);
    for (const v of vars) if (!process.env[v] && !defaulted) unset.add(v);
    const listed = source.tables?.length ?? 0;
    const discover = source.discover ? ` + all tables matching ${source.discover.include.join(',')}` : '';
    lines.push(`  source ${name} (${source.type}): ${listed} listed tables${discover}, at most ${source.concurrency} at once`);
  }
  for (const [name, pipeline] of Object.entries(config.pipelines)) {
    const nodes = staticDagNodes(config, name);
    lines.push(
      `  pipeline ${name}: sources ${pipeline.sources.join(', ')}; ${pipeline.steps.length} SQL steps; ` +
        `${nodes.filter((n) => n.after.length).length} nodes with after:; at most ${pipeline.concurrency} tables at once`,
    );
  }
  if (unset.size) lines.push(`  warning: environment variables not set here: ${[...unset].join(', ')} (workers need them)`);
  console.log(lines.join('\n'));
  return 0;
}
