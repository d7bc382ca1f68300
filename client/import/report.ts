/**
 * What `bqsync import` could not carry over, or carried over with a different meaning:
 * one note per file and line, with what to do about it.
 */
export type NoteKind = 'unmapped' | 'changed';

export interface ImportNote {
  file: string;
  line?: number;
  kind: NoteKind;
  /** The Digdag or Embulk setting, as written. */
  what: string;
  /** What bqsync does instead, and what the operator should do. */
  todo: string;
}

export class ImportReport {
  readonly notes: ImportNote[] = [];

  add(file: string, line: number | undefined, kind: NoteKind, what: string, todo: string): void {
    // A shared include is read once per config that includes it: one note is enough.
    if (this.notes.some((n) => n.file === file && n.line === line && n.what === what)) return;
    this.notes.push({ file, line, kind, what, todo });
  }

  /** The report as Markdown: one section per file, notes in line order. */
  toMarkdown(title: string): string {
    const byFile = new Map<string, ImportNote[]>();
    for (const n of this.notes) byFile.set(n.file, [...(byFile.get(n.file) ?? []), n]);
    const out = [`# ${title}`, ''];
    if (this.notes.length === 0) out.push('Everything was mapped.');
    for (const file of [...byFile.keys()].sort()) {
      out.push(`## ${file}`, '');
      for (const n of byFile.get(file)!.sort((a, b) => (a.line ?? 0) - (b.line ?? 0))) {
        out.push(`- line ${n.line ?? '-'} (${n.kind}): \`${n.what}\`: ${n.todo}`);
      }
      out.push('');
    }
    return out.join('\n');
  }
}
