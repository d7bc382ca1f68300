const Sequencer = require('@jest/test-sequencer').default;

/**
 * The 248-table run goes first, while the emulator is fresh: the emulator slows down as
 * tables and jobs pile up in it (README: emulator gaps), and that run makes the most calls.
 */
class FreshEmulatorFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const first = sorted.filter((t) => t.path.endsWith('nightly-sync.test.ts'));
    return [...first, ...sorted.filter((t) => !first.includes(t))];
  }
}

module.exports = FreshEmulatorFirst;
