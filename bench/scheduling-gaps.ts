/**
 * Whether a run's scheduling stalls, read from its histories: the gap in child starts
 * around each continue-as-new, and the time a source had a free slot while one of its
 * tables still waited to start (time the concurrency limit does not explain).
 */
import { at, HistoryEvent, TableTiming } from './overhead';

export interface HandoverGap {
  /** When the execution continued as new, from the run's start. */
  atMs: number;
  /** Children the execution started, and those still running when it handed over. */
  started: number;
  /** From the last child start before the handover to the first one after it. */
  gapMs: number;
  /** The continuation's input (the plan and every node's result), bytes. */
  inputBytes: number;
}

export interface IdleSlots {
  /** Slot-free-while-a-table-waited time summed over the sources. */
  totalMs: number;
  /** The longest such stretch, where it began (from the run's start) and its source. */
  longestMs: number;
  longestAtMs: number;
  longestSource: string;
  /** The median time from a table's end (as the run saw it) to the start of the next one of its source. */
  medianTurnaroundMs: number;
}

const childStarts = (events: HistoryEvent[]) =>
  events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).map((e) => at(e.eventTime));

/** One entry per continue-as-new, in order. */
export function handoverGaps(executions: HistoryEvent[][]): HandoverGap[] {
  const runStart = at(executions[0][0].eventTime);
  const gaps: HandoverGap[] = [];
  for (let i = 0; i + 1 < executions.length; i++) {
    const events = executions[i];
    const last = events[events.length - 1];
    const handedOver = last.workflowExecutionContinuedAsNewEventAttributes;
    if (!handedOver) continue;
    const before = childStarts(events);
    const after = executions.slice(i + 1).map(childStarts).find((s) => s.length > 0) ?? [];
    const input = (handedOver.input?.payloads ?? []).reduce((n, p) => n + (p.data?.length ?? 0), 0);
    gaps.push({
      atMs: at(last.eventTime) - runStart,
      started: before.length,
      gapMs: before.length && after.length ? after[0] - before[before.length - 1] : NaN,
      inputBytes: input,
    });
  }
  return gaps;
}

/**
 * Sweeps each source's starts and ends (as the run saw them): wherever fewer than
 * `perSource` of its tables ran while one had yet to start, a slot stood idle.
 */
export function idleSlots(tables: TableTiming[], perSource: number): IdleSlots {
  const result: IdleSlots = { totalMs: 0, longestMs: 0, longestAtMs: 0, longestSource: '', medianTurnaroundMs: NaN };
  const turnarounds: number[] = [];
  for (const source of [...new Set(tables.map((t) => t.source))]) {
    const mine = tables.filter((t) => t.source === source);
    const starts = mine.map((t) => t.initiatedMs).sort((a, b) => a - b);
    const ends = mine.map((t) => t.initiatedMs + t.wallMs).sort((a, b) => a - b);
    // Each start after the first `perSource` fills the slot of the earliest end not yet reused.
    for (let i = perSource; i < starts.length; i++) turnarounds.push(starts[i] - ends[i - perSource]);
    const points = [...starts.map((t) => ({ t, d: 1 })), ...ends.map((t) => ({ t, d: -1 }))].sort((a, b) => a.t - b.t || a.d - b.d);
    let running = 0;
    let started = 0;
    let idleSince: number | undefined;
    for (const p of points) {
      const idleBefore = idleSince !== undefined;
      running += p.d;
      if (p.d > 0) started++;
      const idle = started > 0 && started < starts.length && running < perSource;
      if (idle && !idleBefore) idleSince = p.t;
      if (!idle && idleBefore) {
        const ms = p.t - idleSince!;
        result.totalMs += ms;
        if (ms > result.longestMs) Object.assign(result, { longestMs: ms, longestAtMs: idleSince, longestSource: source });
        idleSince = undefined;
      }
    }
  }
  turnarounds.sort((a, b) => a - b);
  result.medianTurnaroundMs = turnarounds.length ? turnarounds[Math.floor(turnarounds.length / 2)] : NaN;
  return result;
}
