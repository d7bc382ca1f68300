/**
 * The order a run follows, as levels: level 0 holds the nodes that wait for nothing, level
 * n the ones whose `after:` nodes are all in earlier levels. Dependencies on nodes outside
 * the list (not in this run) are ignored, as the run does. Nodes in a cycle come last,
 * marked, though the config check refuses cycles before a run.
 */
export function dagLevels(nodes: { key: string; after: string[] }[]): { levels: string[][]; cyclic: string[] } {
  const inRun = new Set(nodes.map((n) => n.key));
  const level = new Map<string, number>();
  let remaining = nodes;
  for (let depth = 0; remaining.length > 0; depth++) {
    const ready = remaining.filter((n) => n.after.every((a) => !inRun.has(a) || (level.get(a) ?? Infinity) < depth));
    if (ready.length === 0) break;
    for (const n of ready) level.set(n.key, depth);
    remaining = remaining.filter((n) => !level.has(n.key));
  }
  const levels: string[][] = [];
  for (const [key, depth] of level) (levels[depth] ??= []).push(key);
  return { levels: levels.map((l) => l.sort()), cyclic: remaining.map((n) => n.key).sort() };
}
