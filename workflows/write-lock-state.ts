import { permitsOf, WriteLockRequest, WriteLocksSnapshot } from '../common/write-locks';

/**
 * Who holds which table and source permits, and who waits: a mutex per destination table
 * and a semaphore per source, weighted: a request takes `permits` of its source (absent: 1).
 * A request is granted all or nothing (no source permit is held
 * while waiting for a table), in arrival order: a request that cannot go reserves its table
 * for itself, and its source too when the source is all it lacks, so later ones do not
 * overtake it there. Pure and deterministic, for the lock workflow and unit tests.
 */
export class WriteLockState {
  private readonly held: WriteLockRequest[];
  private readonly queued: WriteLockRequest[];

  constructor(carried?: WriteLocksSnapshot) {
    this.held = [...(carried?.held ?? [])];
    this.queued = [...(carried?.queued ?? [])];
  }

  /** Queues a request; a request already known (a repeated signal) is left as it is. */
  request(r: WriteLockRequest): 'queued' | 'known' {
    if (this.isHeld(r.requestId) || this.queued.some((q) => q.requestId === r.requestId)) return 'known';
    this.queued.push(r);
    return 'queued';
  }

  isHeld(requestId: string): boolean {
    return this.held.some((h) => h.requestId === requestId);
  }

  /** Ends a hold or a wait. */
  release(requestId: string): void {
    remove(this.held, (h) => h.requestId === requestId);
    remove(this.queued, (q) => q.requestId === requestId);
  }

  /** Frees everything these holders hold or wait for (they closed without releasing). */
  releaseHolders(holders: Set<string>): WriteLockRequest[] {
    return [...remove(this.held, (h) => holders.has(h.holder)), ...remove(this.queued, (q) => holders.has(q.holder))];
  }

  /** Grants what can go now, in order; returns the requests granted. */
  grant(): WriteLockRequest[] {
    const granted: WriteLockRequest[] = [];
    const reservedTables = new Set<string>();
    const reservedSources = new Set<string>();
    for (const r of [...this.queued]) {
      const tableBusy = reservedTables.has(r.table) || this.tableHolder(r.table) !== undefined;
      const sourceBusy = reservedSources.has(r.source) || this.permitsHeld(r.source) + permitsOf(r) > r.sourceCapacity;
      if (!tableBusy && !sourceBusy) {
        remove(this.queued, (q) => q === r);
        this.held.push(r);
        granted.push(r);
        continue;
      }
      reservedTables.add(r.table);
      if (!tableBusy) reservedSources.add(r.source);
    }
    return granted;
  }

  /** What each waiting request waits for, as the operator reads it. */
  waiting(): { request: WriteLockRequest; message: string }[] {
    const seen: WriteLockRequest[] = [];
    return this.queued.map((r) => {
      const message = this.reason(r, seen);
      seen.push(r);
      return { request: r, message };
    });
  }

  private reason(r: WriteLockRequest, ahead: WriteLockRequest[]): string {
    const writer = this.tableHolder(r.table);
    if (writer) return `waiting for ${r.label}: being written by ${writer.holder}`;
    const before = ahead.find((a) => a.table === r.table);
    if (before) return `waiting for ${r.label}: queued behind ${before.holder}`;
    const users = this.sourceHolders(r.source);
    const want = permitsOf(r) > 1 ? `, ${permitsOf(r)} permits wanted, ${this.permitsHeld(r.source)} held` : '';
    const shown = users.slice(0, 3).map((u) => u.holder).join(', ') + (users.length > 3 ? ` and ${users.length - 3} more` : '');
    return `waiting for source ${r.source} (concurrency ${r.sourceCapacity}${want}): ${users.length ? `read by ${shown}` : 'earlier requests go first'}`;
  }

  /** Frees what these requests hold or wait for (their runs closed without releasing). */
  releaseRequests(requestIds: Set<string>): WriteLockRequest[] {
    return [...remove(this.held, (h) => requestIds.has(h.requestId)), ...remove(this.queued, (q) => requestIds.has(q.requestId))];
  }

  /** Every run that holds or waits: its workflow ID and its run ID (the request's ID). */
  holderRuns(): { workflowId: string; runId: string }[] {
    return [...this.held, ...this.queued].map((r) => ({ workflowId: r.holder, runId: r.requestId }));
  }

  /** Every workflow that holds or waits. */
  holders(): string[] {
    return [...new Set([...this.held, ...this.queued].map((r) => r.holder))];
  }

  snapshot(): WriteLocksSnapshot {
    return { held: [...this.held], queued: [...this.queued] };
  }

  private tableHolder(table: string): WriteLockRequest | undefined {
    return this.held.find((h) => h.table === table);
  }

  private sourceHolders(source: string): WriteLockRequest[] {
    return this.held.filter((h) => h.source === source);
  }

  private permitsHeld(source: string): number {
    return this.sourceHolders(source).reduce((n, h) => n + permitsOf(h), 0);
  }
}

/** Removes the matching items in place; returns them. */
function remove<T>(items: T[], match: (item: T) => boolean): T[] {
  const gone = items.filter(match);
  for (const g of gone) items.splice(items.indexOf(g), 1);
  return gone;
}
