import fs from 'node:fs';
import path from 'node:path';
import type { ImportReport } from './report';

/** A rendered line and where it was written. */
export interface SourceLine {
  file: string;
  line: number;
}

export interface Rendered {
  text: string;
  /** Per line of `text` (0-based), the file and line it came from. */
  origins: SourceLine[];
}

/**
 * The part of Embulk's Liquid that configs lean on: `{{ env.NAME }}` (with `| default: 'x'`)
 * becomes `$ENV{NAME}` (`$ENV{NAME:-x}`), an environment reference apart from Digdag's `${...}`, and
 * `{% include 'dir/name' %}` inlines `dir/_name.yml.liquid` as Embulk does. Any other tag or
 * variable is left out and reported, with its file and line.
 */
export function renderLiquid(file: string, baseDir: string, report: ImportReport, depth = 0): Rendered {
  const rel = path.relative(baseDir, file) || path.basename(file);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  const out: string[] = [];
  const origins: SourceLine[] = [];
  lines.forEach((raw, i) => {
    const at = { file: rel, line: i + 1 };
    const include = /^(\s*)\{%-?\s*include\s+['"]([^'"]+)['"]\s*-?%\}\s*$/.exec(raw);
    if (include && file.endsWith('.liquid')) {
      const target = includePath(file, include[2], baseDir);
      if (depth > 8 || !fs.existsSync(target)) {
        report.add(rel, at.line, 'unmapped', raw.trim(), `the included file ${path.relative(baseDir, target)} was not found; its settings are missing from the import`);
        return;
      }
      const inner = renderLiquid(target, baseDir, report, depth + 1);
      inner.text.split('\n').forEach((l, j) => {
        out.push(j === 0 ? include[1] + l : l);
        origins.push(inner.origins[j]);
      });
      return;
    }
    let line = raw;
    if (file.endsWith('.liquid')) {
      line = line.replace(/\{\{-?\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default:\s*['"]?([^'"}]*)['"]?\s*)?-?\}\}/g, (_m, name: string, dflt?: string) =>
        dflt !== undefined ? `$ENV{${name}:-${dflt}}` : `$ENV{${name}}`,
      );
      line = line.replace(/\{\{-?\s*([^}]*?)\s*-?\}\}/g, (whole, expr: string) => {
        report.add(rel, at.line, 'unmapped', whole, `Liquid variable "${expr}" is not an env. variable; write its value into the imported config by hand`);
        return '';
      });
      if (/\{%.*%\}/.test(line)) {
        report.add(rel, at.line, 'unmapped', line.trim(), 'Liquid tags other than include (if, for, assign) are not evaluated; the line was left out: check the imported table by hand');
        line = line.replace(/\{%.*?%\}/g, '');
      }
    }
    out.push(line);
    origins.push(at);
  });
  return { text: out.join('\n'), origins };
}

/**
 * Embulk's include of `dir/name`: `dir/_name.yml.liquid`, beside the including file or in a
 * directory above it (up to the project's), where projects keep their shared partials.
 */
function includePath(from: string, name: string, baseDir: string): string {
  const file = path.join(path.dirname(name), path.basename(name).endsWith('.liquid') ? path.basename(name) : `_${path.basename(name)}.yml.liquid`);
  const first = path.resolve(path.dirname(from), file);
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const candidate = path.resolve(dir, file);
    if (fs.existsSync(candidate)) return candidate;
    if (path.relative(baseDir, dir) === '' || dir === path.dirname(dir) || path.relative(baseDir, dir).startsWith('..')) return first;
  }
}
