import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { MultiBar, Presets, SingleBar } from 'cli-progress';
import type { NodeResult } from '../common/payloads';

/** What the table activity last heartbeated: `{ phase, rows, bytes }`. */
export interface Heartbeat {
  phase?: string;
  rows?: number;
  bytes?: number;
  /** When the server received it (heartbeats are throttled, so rows may be seconds old). */
  at?: number;
}

/** The latest heartbeat of the sync activity in a table's workflow, if it is running. */
export async function latestHeartbeat(client: Client, tableWorkflowId: string): Promise<Heartbeat | undefined> {
  try {
    const { raw } = await client.workflow.getHandle(tableWorkflowId).describe();
    // The block ranges' snapshot holder reads no rows: the progress is a range's.
    const pending = raw.pendingActivities?.find((a) => a.activityType?.name !== 'holdSnapshot');
    const payload = pending?.heartbeatDetails?.payloads?.[0];
    if (!payload) return undefined;
    const at = pending?.lastHeartbeatTime ? tsToMs(pending.lastHeartbeatTime) : undefined;
    return { ...defaultPayloadConverter.fromPayload<Heartbeat>(payload), at };
  } catch {
    return undefined; // progress is a nicety: never fail the wait because of it
  }
}

export interface TableProgress {
  key: string;
  status: NodeResult['status'];
  phase?: string;
  rows: number;
  /** Rows per second since the table started. */
  rate?: number;
  /** The source's row estimate; absent when unknown. */
  estimate?: number;
  /** Seconds left, from the estimate and the rate; absent without an estimate. */
  etaSeconds?: number;
  error?: string;
}

const num = (n: number) => Math.round(n).toLocaleString('en-US');

/** One readable line, for logs and other non-terminal output. */
export function progressLine(p: TableProgress): string {
  const rate = p.rate !== undefined ? `, ${num(p.rate)} rows/s` : '';
  if (p.status === 'running') {
    const eta = p.etaSeconds !== undefined ? `, ETA ${p.etaSeconds}s` : '';
    return `${p.key} running (${p.phase ?? 'starting'}): ${num(p.rows)} rows${p.estimate ? ` of ~${num(p.estimate)}` : ''}${rate}${eta}`;
  }
  if (p.status === 'succeeded') return `${p.key} succeeded: ${num(p.rows)} rows${rate}`;
  if (p.status === 'failed') return `${p.key} failed: ${p.error ?? ''}`;
  return `${p.key} ${p.status}`;
}

/**
 * Shows the tables' progress: a bar per table (rows, rows/s, ETA when the total is known)
 * on a terminal, and a line per change otherwise (every 10 s at most while a table runs).
 */
export class ProgressView {
  private bars?: MultiBar;
  private readonly barOf = new Map<string, SingleBar>();
  private readonly lastLine = new Map<string, { text: string; at: number }>();

  constructor(private readonly tty: boolean) {
    if (tty) {
      this.bars = new MultiBar(
        {
          format: '{key} |{bar}| {status} {rows} rows {rate} rows/s ETA {etaText}',
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
        Presets.shades_classic,
      );
    }
  }

  update(tables: TableProgress[]): void {
    for (const p of tables) {
      if (this.bars) {
        const total = p.estimate && p.estimate > 0 ? Math.max(p.estimate, p.rows) : Math.max(p.rows, 1);
        const eta = p.status === 'running' && p.etaSeconds !== undefined ? `${p.etaSeconds}s` : '-';
        const payload = { key: p.key.padEnd(24), status: p.status.padEnd(9), rows: num(p.rows), rate: p.rate ? num(p.rate) : '-', etaText: eta };
        let bar = this.barOf.get(p.key);
        if (!bar) {
          bar = this.bars.create(total, 0, payload);
          this.barOf.set(p.key, bar);
        }
        bar.setTotal(total);
        // Without an estimate the bar fills only when the table is done.
        const value = p.status === 'succeeded' ? total : p.estimate ? p.rows : 0;
        bar.update(value, payload);
        continue;
      }
      const text = progressLine(p);
      const last = this.lastLine.get(p.key);
      const changed = !last || (p.status !== 'running' ? last.text !== text : Date.now() - last.at >= 10_000 && last.text !== text);
      if (changed) {
        console.log(text);
        this.lastLine.set(p.key, { text, at: Date.now() });
      }
    }
  }

  stop(): void {
    this.bars?.stop();
  }
}

/**
 * Seconds left for a table: the rows still to read at the current rate, less the time
 * already gone since the rows were counted (heartbeats arrive every few seconds).
 */
export function etaSeconds(estimate: number | undefined, rows: number, rate: number | undefined, countedAt: number, now: number): number | undefined {
  if (!estimate || !rate) return undefined;
  return Math.max(0, Math.round((estimate - rows) / rate - (now - countedAt) / 1000));
}

/** Progress of each wanted table from the run's status and the running tables' heartbeats. */
export async function collectProgress(
  client: Client,
  results: NodeResult[],
  estimates: Map<string, number>,
): Promise<TableProgress[]> {
  return Promise.all(
    results.map(async (r) => {
      const beat = r.status === 'running' && r.workflowId ? await latestHeartbeat(client, r.workflowId) : undefined;
      const rows = r.rowsRead ?? beat?.rows ?? 0;
      // The rate up to the moment the rows were counted: finished, or the last heartbeat.
      const until = r.durationMs !== undefined ? undefined : (beat?.at ?? Date.now());
      const elapsedMs = r.durationMs ?? (r.startedAt && until ? until - Date.parse(r.startedAt) : undefined);
      const rate = elapsedMs && elapsedMs > 0 && rows > 0 ? rows / (elapsedMs / 1000) : undefined;
      const estimate = estimates.get(r.key);
      const eta = r.status === 'running' ? etaSeconds(estimate, rows, rate, until ?? Date.now(), Date.now()) : undefined;
      return { key: r.key, status: r.status, phase: beat?.phase, rows, rate, estimate, etaSeconds: eta, error: r.error };
    }),
  );
}
