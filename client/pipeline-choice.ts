import type { LoadedConfig } from '../config/load';

/**
 * Which pipeline a command means, from the config alone: kept apart from the commands so
 * that the CLI loads a command's modules (the Temporal client, the source drivers) only
 * when that command runs.
 */

/** The pipeline named, or the config's only one. */
export function pickPipeline(loaded: LoadedConfig, requested?: string): string {
  const names = Object.keys(loaded.config.pipelines);
  if (requested) {
    if (!loaded.config.pipelines[requested]) {
      throw new Error(`pipeline "${requested}" is not declared in ${loaded.file}; declared: ${names.join(', ')}`);
    }
    return requested;
  }
  if (names.length === 1) return names[0];
  throw new Error(`${loaded.file} declares several pipelines (${names.join(', ')}); name one`);
}

/** The pipeline whose sources hold these tables; several candidates need --pipeline. */
export function pipelineForTables(loaded: LoadedConfig, keys: string[], requested?: string): string {
  const { config, file } = loaded;
  if (requested) return requested;
  const sources = new Set(keys.map((k) => k.split('.')[0]));
  for (const s of sources) {
    if (!config.sources[s]) throw new Error(`"${s}" is not a source in ${file}; name tables as source.table`);
  }
  const candidates = Object.entries(config.pipelines)
    .filter(([, p]) => [...sources].every((s) => p.sources.includes(s)))
    .map(([n]) => n);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) throw new Error(`no single pipeline holds all of ${[...sources].join(', ')}; sync them separately`);
  throw new Error(`pipelines ${candidates.join(', ')} all hold these tables; choose one with --pipeline`);
}
