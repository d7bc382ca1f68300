import { RunState } from '../../workflows/run-state';
import type { RunPlan, TableTask } from '../../common/payloads';

const table = (source: string, name: string, after: string[] = []): TableTask => ({
  key: `${source}.${name}`,
  source,
  table: name,
  dataset: source,
  destination: name,
  after,
  invalidValues: 'null',
  mode: 'replace',
});

function plan(tables: TableTask[], perSource = 2, global = 3): RunPlan {
  const sources = [...new Set(tables.map((t) => t.source))];
  return {
    pipeline: 'p',
    tables,
    steps: [{ key: 'mart', after: ['a.t1', 'b.t1'] }],
    sourceConcurrency: Object.fromEntries(sources.map((s) => [s, perSource])),
    globalConcurrency: global,
    unknown: [],
  };
}

describe('run state', () => {
  test('per-source and global limits hold', () => {
    const tables = ['t1', 't2', 't3', 't4'].flatMap((t) => [table('a', t), table('b', t)]);
    const state = new RunState(plan(tables, 2, 3));
    const first = state.nextToStart().tables;
    expect(first.map((t) => t.key)).toEqual(['a.t1', 'b.t1', 'a.t2']);
    first.forEach((t) => state.markRunning(t.key, 'now'));
    expect(state.nextToStart().tables).toEqual([]);
    state.markFinished('a.t1', { status: 'succeeded' });
    // a has one running (t2), b one (t1): the free global slot goes to the next in order.
    expect(state.nextToStart().tables.map((t) => t.key)).toEqual(['b.t2']);
  });

  test('a node waits for its inputs and is skipped when one fails', () => {
    const tables = [table('a', 't1'), table('a', 't2', ['a.t1']), table('b', 't1')];
    const state = new RunState(plan(tables, 4, 8));
    expect(state.nextToStart().tables.map((t) => t.key)).toEqual(['a.t1', 'b.t1']);
    state.markRunning('a.t1', 'now');
    state.markRunning('b.t1', 'now');
    state.markFinished('b.t1', { status: 'succeeded' });
    state.markFinished('a.t1', { status: 'failed', error: 'boom' });
    const next = state.nextToStart();
    expect(next.tables).toEqual([]);
    expect(next.steps).toEqual([]);
    const summary = state.summary('start');
    expect(summary.results.find((r) => r.key === 'a.t2')).toMatchObject({ status: 'skipped', error: 'skipped: a.t1 did not succeed' });
    expect(summary.results.find((r) => r.key === 'mart')?.status).toBe('skipped');
    expect(state.openCount()).toBe(0);
  });

  test('"sync now" never queues a table twice and re-runs a finished one', () => {
    const t = table('a', 't1');
    const state = new RunState(plan([t, table('b', 't1')], 1, 1));
    expect(state.requeue(t)).toBe('already-queued');
    state.markRunning('a.t1', 'now');
    expect(state.requeue(t)).toBe('already-running');
    state.markFinished('a.t1', { status: 'succeeded' });
    expect(state.requeue(t)).toBe('queued');
    expect(state.requeue(table('a', 'new'))).toBe('queued');
    expect(state.summary('s').results.filter((r) => r.key === 'a.t1')).toHaveLength(1);
  });

  test('a dependency outside the run does not hold a table back', () => {
    const state = new RunState({ ...plan([table('a', 'child', ['a.parent'])]), steps: [] });
    expect(state.nextToStart().tables.map((t) => t.key)).toEqual(['a.child']);
  });
});
