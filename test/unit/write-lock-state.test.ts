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
});
