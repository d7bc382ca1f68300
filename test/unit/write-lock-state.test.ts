import { WriteLockState } from '../../workflows/write-lock-state';
import type { WriteLockRequest } from '../../common/write-locks';

const req = (id: string, table: string, source = 'shop', sourceCapacity = 2): WriteLockRequest => ({
  requestId: id,
  holder: `wf-${id}`,
  key: `${source}.${table}`,
  label: `ds.${table}`,
  table: `p.ds.${table}`,
  source,
  sourceCapacity,
});
const ids = (rs: WriteLockRequest[]) => rs.map((r) => r.requestId);

describe('two writers on one table: the lock state', () => {
  test('one holder per table; the next in line gets it on release and is told who writes meanwhile', () => {
    const s = new WriteLockState();
    s.request(req('a', 'orders'));
    s.request(req('b', 'orders'));
    expect(ids(s.grant())).toEqual(['a']);
    expect(s.waiting().map((w) => w.message)).toEqual(['waiting for ds.orders: being written by wf-a']);
    expect(s.request(req('b', 'orders'))).toBe('known');
    s.release('a');
    expect(ids(s.grant())).toEqual(['b']);
    expect(s.waiting()).toEqual([]);
  });

  test('source permits across runs, all or nothing, and no overtaking of a request that waits only for the source', () => {
    const s = new WriteLockState();
    s.request(req('a', 't1', 'shop', 1));
    s.request(req('b', 't2', 'shop', 1)); // waits for the source only
    s.request(req('c', 't1', 'shop', 1)); // waits for t1 (held by a): holds no permit meanwhile
    expect(ids(s.grant())).toEqual(['a']);
    expect(s.waiting().map((w) => w.message)).toEqual([
      'waiting for source shop (concurrency 1): read by wf-a',
      'waiting for ds.t1: being written by wf-a',
    ]);
    s.release('a');
    // b came first and waited only for the source: it goes before c.
    expect(ids(s.grant())).toEqual(['b']);
    s.release('b');
    expect(ids(s.grant())).toEqual(['c']);
  });

  test('a request waiting for a busy table does not hold back another table of the source', () => {
    const s = new WriteLockState();
    s.request(req('a', 't1'));
    s.request(req('b', 't1'));
    s.request(req('c', 't2'));
    expect(ids(s.grant())).toEqual(['a', 'c']);
  });

  test('holders that closed without releasing are freed, waiting or holding', () => {
    const s = new WriteLockState();
    s.request(req('a', 't1'));
    s.request(req('b', 't1'));
    s.request(req('c', 't1'));
    s.grant();
    expect(s.holders()).toEqual(['wf-a', 'wf-b', 'wf-c']);
    expect(ids(s.releaseHolders(new Set(['wf-a', 'wf-b'])))).toEqual(['a', 'b']);
    expect(ids(s.grant())).toEqual(['c']);
    const carried = new WriteLockState(s.snapshot());
    expect(carried.isHeld('c')).toBe(true);
  });

  test("a closed run's hold is freed by its run ID, not the new run that now has its workflow ID", () => {
    const s = new WriteLockState();
    s.request(req('run1', 't1'));
    s.grant();
    // The same table sync ID, run again: it waits behind the hold of the run that was terminated.
    s.request({ ...req('run2', 't1'), holder: 'wf-run1' });
    expect(s.holderRuns()).toEqual([
      { workflowId: 'wf-run1', runId: 'run1' },
      { workflowId: 'wf-run1', runId: 'run2' },
    ]);
    expect(ids(s.releaseRequests(new Set(['run1'])))).toEqual(['run1']);
    expect(ids(s.grant())).toEqual(['run2']);
  });

  test('weighted requests: a table read in parallel ranges takes several permits, all or nothing, and no more than the source has', () => {
    const s = new WriteLockState();
    s.request(req('a', 't1', 'shop', 4));
    s.request({ ...req('big', 't2', 'shop', 4), permits: 3 }); // 1 + 3 = 4: fits
    s.request(req('c', 't3', 'shop', 4)); // a fifth permit: waits
    expect(ids(s.grant())).toEqual(['a', 'big']);
    expect(s.waiting().map((w) => w.message)).toEqual(['waiting for source shop (concurrency 4): read by wf-a, wf-big']);
    s.release('a');
    expect(ids(s.grant())).toEqual(['c']);
    // Waiting for 3 with 2 held: told why, and a later single request does not overtake it.
    s.release('big');
    s.request(req('d', 't4', 'shop', 4));
    s.request({ ...req('big2', 't2', 'shop', 4), permits: 3 });
    s.request(req('e', 't5', 'shop', 4));
    expect(ids(s.grant())).toEqual(['d']);
    expect(s.waiting().map((w) => w.message)).toEqual([
      'waiting for source shop (concurrency 4, 3 permits wanted, 2 held): read by wf-c, wf-d',
      'waiting for source shop (concurrency 4): read by wf-c, wf-d',
    ]);
    s.release('c');
    expect(ids(s.grant())).toEqual(['big2']);
  });

  test('more permits than the source has are capped at its concurrency, so the request is granted once the source is free', () => {
    const s = new WriteLockState();
    s.request({ ...req('big', 't1', 'shop', 2), permits: 8 });
    expect(ids(s.grant())).toEqual(['big']);
    s.request(req('b', 't2', 'shop', 2));
    expect(ids(s.grant())).toEqual([]);
  });

  test('carried state of older versions (no permits) counts one permit each', () => {
    const old = { held: [req('a', 't1', 'shop', 2), req('b', 't2', 'shop', 2)], queued: [] };
    const s = new WriteLockState(old);
    s.request(req('c', 't3', 'shop', 2));
    expect(ids(s.grant())).toEqual([]);
    s.release('a');
    expect(ids(s.grant())).toEqual(['c']);
  });
});
