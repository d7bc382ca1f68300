import fs from 'node:fs';
import path from 'node:path';

/**
 * The import rules of the README's Layout section, checked on every source file: each
 * folder may import only the folders listed for it (a `type` import of the activities is
 * how workflows name them, and the only way they may).
 */
const ROOT = path.join(__dirname, '..', '..');

const MAY_IMPORT: Record<string, string[]> = {
  common: [],
  config: ['common', 'bigquery/names'],
  sources: ['common', 'config'],
  bigquery: ['common', 'config', 'sources/logical-types'],
  activities: ['common', 'config', 'sources', 'bigquery'],
  workflows: ['common', 'type:activities'],
  worker: ['common', 'config', 'activities', 'workflows'],
  client: ['common', 'config', 'sources', 'bigquery', 'workflows', 'activities/plan-run', 'activities/table-sync/verify-content'],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** The project files a file imports, as paths from the root without extension, each with whether it is type-only. */
function projectImports(file: string): { target: string; typeOnly: boolean }[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const found: { target: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
    found.push({ target: path.normalize(path.join(path.dirname(file), m[3])), typeOnly: Boolean(m[2]) });
  }
  for (const m of text.matchAll(/require(?:\.resolve)?\('(\.[^']+)'\)/g)) {
    found.push({ target: path.normalize(path.join(path.dirname(file), m[1])), typeOnly: false });
  }
  return found;
}

const within = (target: string, place: string) => target === place || target.startsWith(`${place}/`);

test('each folder imports only what the Layout section allows', () => {
  const breaches: string[] = [];
  for (const [folder, allowed] of Object.entries(MAY_IMPORT)) {
    for (const file of sourceFiles(folder)) {
      for (const { target, typeOnly } of projectImports(file)) {
        if (within(target, folder)) continue;
        const ok = allowed.some((a) => (a.startsWith('type:') ? typeOnly && within(target, a.slice(5)) : within(target, a)));
        if (!ok) breaches.push(`${file} imports ${target}${typeOnly ? ' (type)' : ''}`);
      }
    }
  }
  expect(breaches).toEqual([]);
});

test('no file outside an engine folder names an engine', () => {
  const engineNames = /['"](mysql|postgres|mariadb)['"]/i;
  const offenders = Object.keys(MAY_IMPORT)
    .flatMap(sourceFiles)
    .filter((f) => !f.startsWith('sources/mysql/') && !f.startsWith('sources/postgres/') && f !== 'sources/registry.ts')
    // The config schema declares the source types; that is where the enum lives.
    .filter((f) => f !== path.join('config', 'schema.ts'))
    .filter((f) => engineNames.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
  expect(offenders).toEqual([]);
});
