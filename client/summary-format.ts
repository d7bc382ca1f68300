import type { ContentOutcome, NodeResult, RunSummary } from '../common/payloads';

const num = (n: number | undefined) => (n === undefined ? '' : n.toLocaleString('en-US'));
const secs = (ms: number | undefined) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`);

/** A plain-text table of a run's results: failures first, then the rest by name. */
export function formatSummary(summary: RunSummary): string {
  const order: Record<string, number> = { failed: 0, skipped: 1, running: 2, queued: 3, waiting: 4, succeeded: 5 };
  const rows = [...summary.results].sort((a, b) => order[a.status] - order[b.status] || a.key.localeCompare(b.key));
  const header = ['TABLE/STEP', 'STATUS', 'ROWS READ', 'ROWS LOADED', 'DURATION', 'NOTE'];
  const cells = rows.map((r) => [r.key, r.status, num(r.rowsRead), num(r.rowsLoaded), secs(r.durationMs), note(r)]);
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...cells.map((c) => c[i].length))));
  const line = (c: string[]) =>
    c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
  const count = (status: string) => rows.filter((r) => r.status === status).length;
  const open = rows.length - count('succeeded') - count('failed') - count('skipped');
  const elapsed =
    summary.finishedAt !== undefined ? Date.parse(summary.finishedAt) - Date.parse(summary.startedAt) : undefined;
  return [
    line(header),
    ...cells.map(line),
    '',
    `pipeline ${summary.pipeline}: ${count('succeeded')} succeeded, ${count('failed')} failed, ${count('skipped')} skipped` +
      (open > 0 ? `, ${open} running or pending` : '') +
      `; ${num(rows.reduce((n, r) => n + (r.rowsLoaded ?? 0), 0))} rows loaded` +
      (elapsed !== undefined ? ` in ${secs(elapsed)}` : ''),
    ...(summary.waitingFor ? [`${summary.waitingFor}: nothing starts before they land`] : []),
    ...(summary.late ? [`LATE: its deadline (${summary.late.rule}, ${summary.late.deadline}) passed while it ran; noticed at ${summary.late.notedAt}`] : []),
  ].join('\n');
}

function note(r: NodeResult): string {
  if (r.error) return `${r.errorType ?? 'Error'}: ${r.error}`;
  const notes: string[] = [];
  if (r.waitingFor) notes.push(r.waitingFor);
  if (r.rulesChanged) notes.push('column rules changed since the last load: rebuilt from every source row, no clear value kept');
  if (r.mode && r.mode !== 'replace' && !r.resumedJob) notes.push(`${r.mode}${r.cursorFrom ? ` from ${r.cursorFrom}` : ' (full load)'}`);
  const nulled = Object.entries(r.nulledValues ?? {});
  if (nulled.length) notes.push('NULL for unrepresentable values: ' + nulled.map(([c, n]) => `${c}=${n}`).join(', '));
  const drift = r.schemaChanges;
  const nullUntilRefresh = new Set(r.nullUntilFullRefresh ?? []);
  const newColumns = drift?.added.filter((c) => !nullUntilRefresh.has(c)) ?? [];
  if (newColumns.length) notes.push(`new columns: ${newColumns.join(', ')}`);
  for (const c of nullUntilRefresh) notes.push(`column ${c} added: existing rows hold NULL until a full refresh (bqsync sync ${r.key} --full-refresh)`);
  if (drift?.dropped.length) notes.push(`dropped at the source, kept as NULL: ${drift.dropped.join(', ')}`);
  if (drift?.widened.length) notes.push('widened: ' + drift.widened.map((w) => `${w.column} ${w.from}->${w.to}`).join(', '));
  if (r.cursorNulls) notes.push(`${rowCount(r.cursorNulls)} with a NULL cursor (read on every run)`);
  if (r.cursorAhead) notes.push(`${rowCount(r.cursorAhead)} dated after the source's clock (read on every run; the bound stops at the clock)`);
  if (r.resumedJob) notes.push(`load of an earlier attempt reused: ${r.resumedJob}`);
  if (r.chunks) {
    const spread = r.rangeWorkers ? `, up to ${r.rangesAtOnce ?? 1} at once on ${r.rangeWorkers.length} worker${r.rangeWorkers.length === 1 ? '' : 's'}` : '';
    const ranges = r.rangesBy === 'blocks' ? 'block ranges of one snapshot' : 'key ranges';
    notes.push(`read in ${r.chunks} ${ranges}${r.chunksResumed ? `, ${r.chunksResumed} landed by an earlier attempt` : ''}${spread}`);
  }
  if (r.onePiece) notes.push(r.onePiece);
  if (r.content) notes.push(contentNote(r.content));
  return notes.join('; ');
}

/** verify: checksum in a table's result (a mismatch fails the table: its message says which keys). */
function contentNote(c: ContentOutcome): string {
  if (c.skipped) return `content not compared (${c.skipped})`;
  const left = c.notCompared?.length ? `, floats not compared: ${c.notCompared.join(', ')}` : '';
  return `content same: ${rowCount(c.rows)} in ${num(c.ranges)} checksum ranges, ${num(c.bytesScanned)} BigQuery bytes, ${c.seconds.toFixed(1)}s` +
    `${c.sameSnapshot ? '' : ' (a snapshot after the load)'}${left}`;
}

const rowCount = (n: number) => `${num(n)} row${n === 1 ? '' : 's'}`;
