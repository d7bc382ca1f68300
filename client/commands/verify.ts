import { makePlanRun } from '../../activities/plan-run';
import { verifyTableNow } from '../../activities/table-sync/verify-content';
import type { LoadedConfig } from '../../config/load';
import type { ContentReport, DifferingKey } from '../../common/content-checksum';
import { contentDiffers } from '../../common/content-checksum';

/**
 * `bqsync verify <source.table>...`: compares each table's content at the source with
 * BigQuery's, by checksums per key range computed in each database, and names the keys that
 * differ. Runs here in the CLI process (no worker, no run): it needs the sources and
 * BigQuery reachable from here. Exit 1 when a table differs.
 */
export async function verifyCommand(loaded: LoadedConfig, pipeline: string, keys: string[], json: boolean): Promise<number> {
  const plan = await makePlanRun(loaded)({ pipeline, tables: keys });
  if (plan.unknown.length > 0) {
    console.error(`error: not tables of pipeline ${pipeline}: ${plan.unknown.join(', ')}; name them as source.table`);
    return 2;
  }
  const results: Record<string, ContentReport | { skipped: string }> = {};
  let differs = false;
  for (const task of plan.tables) {
    if (!json) process.stderr.write(`${task.key}: comparing...`);
    const report = await verifyTableNow(loaded, task, (p) => {
      if (!json) process.stderr.write(`\r${task.key}: level ${p.level}, ${p.segments} ranges split, ${p.differing} differ   `);
    });
    if (!json) process.stderr.write('\n');
    results[task.key] = report;
    if (!('skipped' in report) && contentDiffers(report)) differs = true;
    if (!json) console.log(describe(task.key, report));
  }
  if (json) console.log(JSON.stringify({ pipeline, tables: results }, null, 2));
  return differs ? 1 : 0;
}

const keyText = (k: DifferingKey) =>
  (k.key.length === 1 ? k.key[0] : `(${k.key.join(', ')})`) + (k.columns ? ` [${k.columns.join(', ')}]` : '') + (k.copies ? ` x${k.copies}` : '');

function describe(key: string, r: ContentReport | { skipped: string }): string {
  if ('skipped' in r) return `${key}: not compared: ${r.skipped}`;
  const lines = [
    `${key}: ${contentDiffers(r) ? 'DIFFERS' : 'same content'}; ${r.rows} source rows, ${r.bigQueryRows} BigQuery rows; ` +
      `${r.ranges} ranges checksummed (split by ${r.split === 'range' ? 'key range' : 'key hash'}), ${r.leafRanges} compared row by row; ` +
      `BigQuery bytes scanned ${r.bytesScanned}; ${r.seconds.toFixed(1)} s`,
  ];
  for (const [what, d] of [['missing in BigQuery', r.missing], ['extra in BigQuery', r.extra], ['changed', r.changed]] as const) {
    if (d.count > 0) lines.push(`  ${what}: ${d.count}: ${d.keys.map(keyText).join(', ')}${d.count > d.keys.length ? ', ...' : ''}`);
  }
  if (r.incomplete) lines.push('  more key ranges differ than were followed: the counts above are lower bounds');
  if (r.nullnessOnly.length > 0) lines.push(`  compared by NULL only (hashed): ${r.nullnessOnly.join(', ')}`);
  if (r.notCompared.length > 0) lines.push(`  not compared (floats): ${r.notCompared.join(', ')}`);
  return lines.join('\n');
}
