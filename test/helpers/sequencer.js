const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;
const DURATIONS = require('./durations.json');

/**
 * The emulator slows down as tables pile up in it (README: emulator gaps), so the
 * files that need it quick run while it is fresh: the 248-table run, which makes the most
 * calls, then the concurrency test, which must see several table syncs reach their
 * extraction at once within its wait.
 */
const FIRST = ['nightly-sync.test.ts', 'concurrency.test.ts'];
/** Seconds assumed for a file that durations.json does not list yet. */
const UNKNOWN_SECONDS = 60;

const relative = (test) => path.relative(path.join(__dirname, '..', '..'), test.path).split(path.sep).join('/');
const seconds = (test) => DURATIONS.seconds[relative(test)] ?? UNKNOWN_SECONDS;

class FreshEmulatorFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const first = FIRST.flatMap((name) => sorted.filter((t) => t.path.endsWith(name)));
    return [...first, ...sorted.filter((t) => !first.includes(t))];
  }

  /**
   * Shards of about equal time rather than equal file counts: the longest files first, each
   * to the shard with the least time so far. Every process computes the same split, since
   * it depends only on the file names and durations.json.
   */
  shard(tests, { shardIndex, shardCount }) {
    const byTime = [...tests].sort((a, b) => seconds(b) - seconds(a) || (relative(a) < relative(b) ? -1 : 1));
    const load = new Array(shardCount).fill(0);
    const mine = [];
    for (const test of byTime) {
      const lightest = load.indexOf(Math.min(...load));
      load[lightest] += seconds(test);
      if (lightest === shardIndex - 1) mine.push(test);
    }
    return mine;
  }
}

module.exports = FreshEmulatorFirst;
