/**
 * A V8 CPU profile of part of this process's main thread (node:inspector's Profiler), written
 * as a .cpuprofile file that Chrome DevTools or speedscope open, and its top entries by self
 * time for a terminal. Threads other than the main one (zlib's thread pool) are not sampled.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (err: Error | null, result?: unknown) => (err ? reject(err) : resolve(result as T))),
  );
}

/** Runs `work` under the profiler; the profile is written to `file`. */
export async function profiled<T>(file: string, work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    // 200 µs: enough samples in a run of a few seconds to rank the hot functions.
    await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
    await post(session, 'Profiler.start');
    const result = await work();
    const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

/** The functions with the most self time, as "share  ms  function  file:line" lines. */
export function topEntries(profile: CpuProfile, count = 12): string[] {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    // Each sample's time is the gap to the next sample.
    const micros = deltas[i + 1] ?? 0;
    const frame = byNode.get(samples[i])!.callFrame;
    const file = frame.url ? frame.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1') : '';
    const key = `${frame.functionName || '(anonymous)'}  ${file}${file ? `:${frame.lineNumber + 1}` : ''}`;
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + micros);
    total += micros;
  }
  return [...selfMicros.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, micros]) => `${((100 * micros) / Math.max(total, 1)).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}
