import { idleSlots } from '../../bench/scheduling-gaps';
import type { TableTiming } from '../../bench/overhead';

/** The benchmark's stall finder: time a source had a free slot while one of its tables waited. */
describe('idle slots', () => {
  const t = (source: string, initiatedMs: number, wallMs: number): TableTiming => ({
    workflowId: `${source}.${initiatedMs}`,
    source,
    initiatedMs,
    wallMs,
    activityMs: wallMs,
    retried: 0,
    events: 0,
    phases: { workflowTasks: 0, taskQueueMs: 0, taskRunMs: 0, lockMs: 0, closeMs: 0 },
    startMs: 0,
    heardMs: 0,
  });

  test('a table started later than its slot freed is counted, one started at once is not', () => {
    // a: 0-10, then 15-25 (5 ms late), then 25-30 (on time).
    const idle = idleSlots([t('a', 0, 10), t('a', 15, 10), t('a', 25, 5)], 1);
    expect(idle).toMatchObject({ totalMs: 5, longestMs: 5, longestAtMs: 10, longestSource: 'a' });
  });

  test('a slot free after the last table started is not a stall', () => {
    expect(idleSlots([t('a', 0, 10), t('a', 0, 30)], 2).totalMs).toBe(0);
  });

  test('sources are swept apart, each under its own limit', () => {
    const idle = idleSlots([t('a', 0, 10), t('b', 0, 10), t('a', 10, 10), t('b', 12, 10)], 1);
    expect(idle).toMatchObject({ totalMs: 2, longestMs: 2, longestSource: 'b' });
  });
});
