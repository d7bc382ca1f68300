import { failureType } from '../common/failures';
import type { NodeResult, NodeStatus, RunPlan, RunSummary, StepTask, TableTask } from '../common/payloads';

/**
 * The state of one run's DAG: which tables and steps wait, run or are done, and which
 * may start next under the per-source and per-run limits. Pure and deterministic, so the
 * workflow can use it and unit tests can drive it without a server.
 */
export class RunState {
  private readonly tables = new Map<string, TableTask>();
  private readonly steps = new Map<string, StepTask>();
  private readonly results = new Map<string, NodeResult>();

  constructor(
    readonly plan: RunPlan,
    carried: NodeResult[] = [],
  ) {
    for (const r of carried) this.results.set(r.key, r);
    for (const t of plan.tables) this.addTable(t);
    for (const s of plan.steps) this.addStep(s);
    for (const u of plan.unknown) {
      this.results.set(u.key, { key: u.key, kind: 'table', status: 'failed', errorType: failureType('UnknownTable'), error: u.message });
    }
    for (const c of plan.conflicts ?? []) {
      this.results.set(c.key, { key: c.key, kind: 'table', status: 'failed', errorType: failureType('DestinationConflict'), error: c.message });
    }
  }

  private addTable(task: TableTask): void {
    this.tables.set(task.key, task);
    if (!this.results.has(task.key)) this.results.set(task.key, { key: task.key, kind: 'table', status: 'waiting', runs: 0 });
  }

  private addStep(step: StepTask): void {
    this.steps.set(step.key, step);
    if (!this.results.has(step.key)) this.results.set(step.key, { key: step.key, kind: 'step', status: 'waiting', runs: 0 });
  }

  status(key: string): NodeStatus | undefined {
    return this.results.get(key)?.status;
  }

  /** How often the node was started in this run. */
  runs(key: string): number {
    return this.results.get(key)?.runs ?? 0;
  }

  table(key: string): TableTask | undefined {
    return this.tables.get(key);
  }

  /**
   * Queues a table again ("sync this table now"). A table that is waiting or running is
   * left alone, so the same table never runs twice at once.
   */
  requeue(task: TableTask): 'queued' | 'already-queued' | 'already-running' {
    const current = this.results.get(task.key);
    if (current && this.tables.has(task.key)) {
      if (current.status === 'running') return 'already-running';
      if (current.status === 'waiting' || current.status === 'queued') return 'already-queued';
    }
    this.tables.set(task.key, task);
    this.results.set(task.key, { key: task.key, kind: 'table', status: 'waiting', runs: current?.runs ?? 0 });
    return 'queued';
  }

  /** Marks as skipped every waiting node whose input failed or was skipped. */
  skipBlocked(): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const r of this.results.values()) {
        if (r.status !== 'waiting' && r.status !== 'queued') continue;
        const blocker = this.deps(r.key).find((d) => {
          const s = this.results.get(d)?.status;
          return s === 'failed' || s === 'skipped';
        });
        if (blocker) {
          r.status = 'skipped';
          r.errorType = failureType('InputFailed');
          r.error = `skipped: ${blocker} did not succeed`;
          changed = true;
        }
      }
    }
  }

  /** Marks every node still open as skipped; called when nothing runs and nothing can start. */
  skipUnreachable(): void {
    for (const r of this.results.values()) {
      if (r.status === 'waiting' || r.status === 'queued') {
        r.status = 'skipped';
        r.errorType = failureType('Unreachable');
        r.error = `skipped: waits for ${this.deps(r.key).join(', ')}, which cannot finish in this run`;
      }
    }
  }

  /**
   * Nodes that may start now, in plan order. Dependencies outside this run (a table synced
   * alone) do not hold a node back.
   */
  nextToStart(): { tables: TableTask[]; steps: StepTask[] } {
    this.skipBlocked();
    const running = this.runningTables();
    let total = running.length;
    const perSource = new Map<string, number>();
    for (const t of running) perSource.set(t.source, (perSource.get(t.source) ?? 0) + 1);

    const tables: TableTask[] = [];
    const steps: StepTask[] = [];
    for (const r of this.results.values()) {
      if (r.status !== 'waiting' && r.status !== 'queued') continue;
      if (!this.depsDone(r.key)) continue;
      const step = this.steps.get(r.key);
      if (step) {
        steps.push(step);
        continue;
      }
      const task = this.tables.get(r.key);
      if (!task) continue;
      r.status = 'queued';
      const sourceLimit = this.plan.sourceConcurrency[task.source] ?? 1;
      if (total >= this.plan.globalConcurrency || (perSource.get(task.source) ?? 0) >= sourceLimit) continue;
      tables.push(task);
      total++;
      perSource.set(task.source, (perSource.get(task.source) ?? 0) + 1);
    }
    return { tables, steps };
  }

  markRunning(key: string, at: string, workflowId?: string): void {
    const r = this.results.get(key)!;
    r.status = 'running';
    r.startedAt = at;
    r.runs = (r.runs ?? 0) + 1;
    r.workflowId = workflowId;
    delete r.waitingFor;
    delete r.error;
    delete r.errorType;
  }

  markFinished(key: string, update: Partial<NodeResult> & { status: 'succeeded' | 'failed' }): void {
    const r = this.results.get(key)!;
    delete r.waitingFor;
    Object.assign(r, update);
  }

  /**
   * What a running table sync waits for (a write lock held by another sync, or its source's
   * permits), or that it no longer waits. A notice from an earlier sync of the table is ignored.
   */
  markWaiting(key: string, workflowId: string, message: string | undefined): void {
    const r = this.results.get(key);
    if (!r || r.status !== 'running' || r.workflowId !== workflowId) return;
    if (message === undefined) delete r.waitingFor;
    else r.waitingFor = message;
  }

  runningTables(): TableTask[] {
    return [...this.tables.values()].filter((t) => this.results.get(t.key)?.status === 'running');
  }

  runningCount(): number {
    return [...this.results.values()].filter((r) => r.status === 'running').length;
  }

  /** Nodes not yet finished (waiting, queued or running). */
  openCount(): number {
    return [...this.results.values()].filter((r) => ['waiting', 'queued', 'running'].includes(r.status)).length;
  }

  finishedCount(): number {
    return [...this.results.values()].filter((r) => ['succeeded', 'failed', 'skipped'].includes(r.status)).length;
  }

  allResults(): NodeResult[] {
    return [...this.results.values()];
  }

  /** The plan as it stands now, including tables added while the run went on. */
  currentPlan(): RunPlan {
    return { ...this.plan, tables: [...this.tables.values()], steps: [...this.steps.values()], unknown: [], conflicts: [] };
  }

  summary(startedAt: string, finishedAt?: string): RunSummary {
    const results = this.allResults();
    const count = (...s: NodeStatus[]) => results.filter((r) => s.includes(r.status)).length;
    return {
      pipeline: this.plan.pipeline,
      startedAt,
      finishedAt,
      succeeded: count('succeeded'),
      failed: count('failed'),
      skipped: count('skipped'),
      running: count('running'),
      pending: count('waiting', 'queued'),
      rowsLoaded: results.reduce((n, r) => n + (r.rowsLoaded ?? 0), 0),
      results,
    };
  }

  private deps(key: string): string[] {
    return this.tables.get(key)?.after ?? this.steps.get(key)?.after ?? [];
  }

  private depsDone(key: string): boolean {
    return this.deps(key).every((d) => {
      const s = this.results.get(d)?.status;
      return s === undefined || s === 'succeeded';
    });
  }
}
