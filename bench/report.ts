/** Small shared pieces of the benchmark scripts: timing, memory and a Markdown table. */
import fs from 'node:fs';

/** Seconds since a process.hrtime.bigint() reading. */
export function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** Peak resident memory (VmHWM) of a process, this one unless told, in MiB. */
export function peakRssMiB(pid: number | 'self' = 'self'): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Starts a process's peak resident memory (VmHWM) over from its current RSS, so that a later reading covers only what came after. */
export function resetPeakRss(pid: number | 'self' = 'self'): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** A Markdown table, columns padded so that it also reads well in a terminal. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
