/**
 * Checks of the table/step dependency graph: every `after:` names a node that exists, and
 * there is no cycle. Pure functions, shared by `bqsync validate` and run planning.
 */
export interface DagNode {
  key: string;
  after: string[];
}

export interface DagProblem {
  key: string;
  message: string;
}

export function findUnknownReferences(nodes: DagNode[], isKnown: (ref: string) => boolean): DagProblem[] {
  const problems: DagProblem[] = [];
  for (const node of nodes) {
    for (const ref of node.after) {
      if (ref === node.key) problems.push({ key: node.key, message: `${node.key} lists itself in after:` });
      else if (!isKnown(ref)) {
        problems.push({
          key: node.key,
          message: `${node.key} waits for "${ref}", which is neither a table (source.table) nor a step of this pipeline`,
        });
      }
    }
  }
  return problems;
}

/** Returns one cycle as a list of keys (first key repeated at the end), or undefined. */
export function findCycle(nodes: DagNode[]): string[] | undefined {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (key: string): string[] | undefined => {
    const s = state.get(key);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...path.slice(path.indexOf(key)), key];
    state.set(key, 'visiting');
    path.push(key);
    for (const dep of byKey.get(key)?.after ?? []) {
      if (!byKey.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(key, 'done');
    return undefined;
  };
  for (const node of nodes) {
    const cycle = visit(node.key);
    if (cycle) return cycle;
  }
  return undefined;
}
