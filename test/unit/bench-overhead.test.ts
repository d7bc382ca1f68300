import { dataOnlyMakespan } from '../../bench/overhead';

/** The benchmark's "data-only" time: activity times replayed under the run's limits. */
describe('data-only makespan', () => {
  const t = (source: string, activityMs: number) => ({ source, activityMs });

  test('one slot per source: each source runs its tables back to back, sources side by side', () => {
    expect(dataOnlyMakespan([t('a', 10), t('b', 5), t('a', 10), t('b', 5)], 1, 2)).toBe(20);
  });

  test('the per-run limit holds the second source back', () => {
    expect(dataOnlyMakespan([t('a', 10), t('b', 5)], 1, 1)).toBe(15);
  });

  test('a free slot takes the next table in start order at once', () => {
    // a:30 and a:10 start together; the third starts when a:10 ends, at 10, and ends at 30.
    expect(dataOnlyMakespan([t('a', 30), t('a', 10), t('a', 20)], 2, 4)).toBe(30);
  });

  test('no tables take no time', () => {
    expect(dataOnlyMakespan([], 4, 8)).toBe(0);
  });
});
