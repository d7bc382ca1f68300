/**
 * The worker's staging budget: at most `limit` bytes of staged files on its disk at once,
 * across all its table syncs. Bytes are counted before compression (an upper bound of what
 * the disk holds) and reserved chunk by chunk as a file is written; a writer that would go
 * over the limit waits, and its database read pauses with it, until other files are removed
 * (after their load, or when their sync ends).
 *
 * Writers that all wait on each other would wait forever: then the one that started last
 * gives up (StagingBudgetWait, retried later) and its files go when its sync ends. A table
 * whose file alone needs more than the limit fails with StagingBudgetTooSmall.
 */

export class StagingBudgetWait extends Error {
  constructor(readonly file: string, readonly limit: number, readonly alone: boolean) {
    super(alone ? `the staged file needs more than the staging budget of ${limit} bytes` : `waiting for the staging budget of ${limit} bytes`);
  }
}

interface Holder {
  bytes: number;
  writing: boolean;
  seq: number;
}

interface Waiter {
  file: string;
  bytes: number;
  grant(): void;
  refuse(err: Error): void;
}

export class StagingBudget {
  private used = 0;
  private seq = 0;
  private readonly files = new Map<string, Holder>();
  private readonly waiters: Waiter[] = [];

  /** `limit` in bytes; undefined: no limit (only the disk's size). */
  constructor(readonly limit?: number) {}

  /** Bytes reserved now, for the metrics and tests. */
  get staged(): number {
    return this.used;
  }

  /** Reserves `bytes` more for `file` before they are written; waits while they do not fit. */
  reserve(file: string, bytes: number): Promise<void> {
    let holder = this.files.get(file);
    if (!holder) this.files.set(file, (holder = { bytes: 0, writing: true, seq: ++this.seq }));
    if (this.limit === undefined || this.used + bytes <= this.limit) {
      this.take(holder, bytes);
      return Promise.resolve();
    }
    return new Promise((grant, refuse) => {
      this.waiters.push({ file, bytes, grant, refuse });
      this.breakDeadlock();
    });
  }

  /** The file is complete (or its write failed): it holds its bytes until released. */
  doneWriting(file: string): void {
    const holder = this.files.get(file);
    if (holder) holder.writing = false;
    this.breakDeadlock();
  }

  /** The files are removed from disk: their bytes go back to the budget. */
  release(isReleased: (file: string) => boolean): void {
    for (const [file, holder] of this.files) {
      if (!isReleased(file)) continue;
      this.used -= holder.bytes;
      this.files.delete(file);
    }
    // A writer cancelled while it waited: nobody writes that file any more.
    for (const w of this.waiters.filter((x) => isReleased(x.file))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.refuse(new Error(`${w.file} was removed while it waited for the staging budget`));
    }
    this.grantWaiting();
  }

  private take(holder: Holder, bytes: number): void {
    holder.bytes += bytes;
    this.used += bytes;
  }

  /** First come, first served: a large request is not overtaken by small ones. */
  private grantWaiting(): void {
    while (this.waiters.length > 0 && this.used + this.waiters[0].bytes <= this.limit!) {
      const w = this.waiters.shift()!;
      const holder = this.files.get(w.file);
      if (holder) this.take(holder, w.bytes);
      w.grant();
    }
    this.breakDeadlock();
  }

  /** When no file can be released unless a waiting writer goes on, the youngest writer gives up. */
  private breakDeadlock(): void {
    if (this.waiters.length === 0) return;
    const waiting = new Set(this.waiters.map((w) => w.file));
    for (const [file, holder] of this.files) {
      // A finished file goes after its load; a writer that is not waiting will finish.
      if (holder.bytes > 0 && (!holder.writing || !waiting.has(file))) return;
    }
    const youngest = this.waiters.reduce((a, b) => (this.files.get(a.file)!.seq > this.files.get(b.file)!.seq ? a : b));
    this.waiters.splice(this.waiters.indexOf(youngest), 1);
    const alone = [...this.files.values()].filter((h) => h.bytes > 0).length <= 1;
    youngest.refuse(new StagingBudgetWait(youngest.file, this.limit!, alone));
  }
}
