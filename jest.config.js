/**
 * Four projects. unit, workflow and deploy need no stack; integration starts its own
 * (test/global-setup.ts), and only when one of its files is selected, so that
 * `npx jest test/unit` or `--selectProjects unit workflow` never starts it.
 * scripts/test.sh runs the stack-free projects first, then the integration files in
 * parallel shards, each on a stack of its own (BQSYNC_TEST_SLOT).
 */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.jest.json' }] },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/deploy/cdk.out/', '<rootDir>/deploy/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // The workflows on a Temporal dev server of each file's own, with mocked activities.
    {
      ...common,
      displayName: 'workflow',
      testMatch: ['<rootDir>/test/workflow/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/helpers/workflow-timeout.ts'],
    },
    // The CDK app's tests (deploy/ is its own npm package; scripts/test.sh installs it).
    { ...common, displayName: 'deploy', testMatch: ['<rootDir>/deploy/test/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/helpers/fresh-emulator.ts'],
    },
  ],
  // One file at a time per process: the integration files of a shard share one emulator,
  // which serialises its work. scripts/test.sh raises it for the stack-free projects.
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/helpers/sequencer.js',
  // The integration tests wait for real retries and outages; per project it is not honoured.
  testTimeout: 600_000,
  reporters: ['default', '<rootDir>/test/helpers/count-reporter.js'],
};
