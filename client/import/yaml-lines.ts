import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Rendered, SourceLine } from './liquid';

/** A parsed YAML file whose keys can be traced back to the file and line they were written on. */
export interface LocatedYaml {
  data: unknown;
  /** Where the key at this path (or the deepest part of it that exists) was written. */
  where(...keys: (string | number)[]): SourceLine;
}

export function parseLocated(rendered: Rendered): LocatedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(rendered.text, { lineCounter, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const origin = rendered.origins[(e.linePos?.[0].line ?? 1) - 1] ?? rendered.origins[0];
    throw new Error(`${origin.file}:${origin.line}: YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  const originAt = (offset: number | undefined) =>
    rendered.origins[(offset === undefined ? 1 : lineCounter.linePos(offset).line) - 1] ?? rendered.origins[0];
  return {
    data: doc.toJS(),
    where(...keys) {
      let node: unknown = doc.contents;
      let offset = (doc.contents as Node | null)?.range?.[0];
      for (const key of keys) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
          if (!pair) break;
          offset = (pair.key as Node).range?.[0] ?? offset;
          node = pair.value;
        } else if (isSeq(node) && typeof key === 'number' && node.items[key]) {
          node = node.items[key];
          offset = (node as Node).range?.[0] ?? offset;
        } else break;
      }
      return originAt(offset);
    },
  };
}
