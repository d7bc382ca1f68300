const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

/**
 * Prints the closing line CI reads: "N passed, N failed" (skipped tests are reported apart).
 * With BQSYNC_COUNT_FILE set it also writes the counts and each file's seconds there as
 * JSON, so that scripts/test.sh can add up the jest processes it runs side by side.
 */
class CountReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    console.log(`\n${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    if (process.env.BQSYNC_COUNT_FILE) {
      const files = Object.fromEntries(
        results.testResults.map((r) => [
          path.relative(ROOT, r.testFilePath).split(path.sep).join('/'),
          Math.round((r.perfStats.end - r.perfStats.start) / 1000),
        ]),
      );
      const counts = { passed: results.numPassedTests, failed, skipped, files };
      fs.writeFileSync(process.env.BQSYNC_COUNT_FILE, JSON.stringify(counts, null, 2));
    }
  }
}
module.exports = CountReporter;
