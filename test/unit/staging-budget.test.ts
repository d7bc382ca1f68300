/**
 * The worker's staging budget (activities/table-sync/staging-budget.ts): bytes reserved as
 * staged files are written, never more than the limit at once; writers wait for space, and
 * writers that could only wait on each other are told to give up, the youngest first.
 */
import { StagingBudget, StagingBudgetWait } from '../../activities/table-sync/staging-budget';

const settled = async <T>(p: Promise<T>) => {
  let state = 'pending';
  p.then(() => (state = 'granted'), (e: Error) => (state = e instanceof StagingBudgetWait ? (e.alone ? 'too small' : 'gave up') : e.message));
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('full disks: the staging budget', () => {
  test('a writer that would go over the limit waits until another file is released', async () => {
    const budget = new StagingBudget(100);
    await budget.reserve('/w/a/rows.json', 60);
    budget.doneWriting('/w/a/rows.json'); // staged, waiting for its load
    const b = budget.reserve('/w/b/rows.json', 50);
    expect(await settled(b)).toBe('pending');
    expect(budget.staged).toBe(60);
    budget.release((f) => f.startsWith('/w/a/'));
    expect(await settled(b)).toBe('granted');
    expect(budget.staged).toBe(50);
  });

  test('no limit: every reservation is granted at once', async () => {
    const budget = new StagingBudget();
    await budget.reserve('/w/a/rows.json', 10 ** 12);
    expect(await settled(budget.reserve('/w/b/rows.json', 10 ** 12))).toBe('granted');
  });

  test('two writers waiting on each other: the one that started last gives up, the other goes on', async () => {
    const budget = new StagingBudget(100);
    await budget.reserve('/w/a/rows.json', 40);
    await budget.reserve('/w/b/rows.json', 40);
    const a = budget.reserve('/w/a/rows.json', 40);
    expect(await settled(a)).toBe('pending'); // b still writes: it may finish and be loaded
    const b = budget.reserve('/w/b/rows.json', 40);
    expect(await settled(b)).toBe('gave up');
    budget.release((f) => f.startsWith('/w/b/')); // b's sync ends, its files go
    expect(await settled(a)).toBe('granted');
    expect(budget.staged).toBe(80);
  });

  test('a file that alone needs more than the limit fails as too small for it', async () => {
    const budget = new StagingBudget(100);
    await budget.reserve('/w/a/rows.json', 90);
    expect(await settled(budget.reserve('/w/a/rows.json', 20))).toBe('too small');
  });

  test('a writer cancelled while waiting leaves the queue when its files are released', async () => {
    const budget = new StagingBudget(100);
    await budget.reserve('/w/a/rows.json', 80);
    budget.doneWriting('/w/a/rows.json');
    const b = budget.reserve('/w/b/rows.json', 50);
    budget.release((f) => f.startsWith('/w/b/'));
    expect(await settled(b)).toBe('/w/b/rows.json was removed while it waited for the staging budget');
    budget.release((f) => f.startsWith('/w/a/'));
    expect(budget.staged).toBe(0);
  });
});
