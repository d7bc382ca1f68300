const Sequencer = require('@jest/test-sequencer').default;

/**
 * The emulator slows down as tables and jobs pile up in it (README: emulator gaps), so the
 * files that need it quick run while it is fresh: the 248-table run, which makes the most
 * calls, then the concurrency test, which must see several table syncs reach their
 * extraction at once within its wait.
 */
const FIRST = ['nightly-sync.test.ts', 'concurrency.test.ts'];

class FreshEmulatorFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const first = FIRST.flatMap((name) => sorted.filter((t) => t.path.endsWith(name)));
    return [...first, ...sorted.filter((t) => !first.includes(t))];
  }
}

module.exports = FreshEmulatorFirst;
