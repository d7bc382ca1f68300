import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, envReferences, parseConfig } from '../../config/load';
import { importProject } from '../import/build';

/**
 * `bqsync import <dir>`: writes a bqsync config made from a Digdag + Embulk project, and a
 * report of what was not carried over (per file and line) beside it; checks the config as
 * `validate` would. Returns 1 when the result does not validate.
 */
export function importCommand(dir: string, output: string, json = false): number {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory; name the Digdag project's directory`);
  const result = importProject(dir);
  const reportFile = path.join(path.dirname(path.resolve(output)), 'bqsync-import-report.md');
  fs.writeFileSync(output, result.yaml);
  fs.writeFileSync(reportFile, result.report.toMarkdown(`bqsync import of ${dir}`) + '\n');
  // Checked as validate would, with the variables that are not set here standing in.
  const unset = [...new Set(envReferences(result.yaml.split('\n').filter((l) => !l.startsWith('#')).join('\n')))].filter((v) => process.env[v] === undefined);
  let problem: string | undefined;
  const saved = { ...process.env };
  try {
    for (const v of unset) process.env[v] = `unset_${v.toLowerCase()}`;
    parseConfig(result.yaml, output);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problem = err.message;
  } finally {
    for (const v of unset) if (saved[v] === undefined) delete process.env[v];
  }
  const unmapped = result.report.notes.filter((n) => n.kind === 'unmapped').length;
  const changed = result.report.notes.length - unmapped;
  if (json) {
    console.log(JSON.stringify({ output, report: reportFile, valid: !problem, problem, unsetVariables: unset, pipelines: result.tables, variables: result.variables, notes: result.report.notes }, null, 2));
  } else {
    console.log(`wrote ${output}`);
    for (const [p, tables] of Object.entries(result.tables)) console.log(`  pipeline ${p}: ${tables.length} tables`);
    console.log(`wrote ${reportFile}: ${unmapped} settings not carried over, ${changed} carried over with a different meaning`);
    console.log('set these environment variables (the passwords go into the URLs):');
    for (const [v, what] of Object.entries(result.variables)) console.log(`  ${v}=${what}`);
    const once = unset.length ? ` once ${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} set (not set here)` : '';
    console.log(problem ? `the result does not validate: ${problem}` : `${output}: valid${once}`);
  }
  return problem ? 1 : 0;
}
