/** Unit tests need nothing; integration tests start their own stack (test/global-setup.ts). */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
  // deploy/test: the CDK app's tests (deploy/ is its own npm package; scripts/test.sh installs it).
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/deploy/test/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/deploy/cdk.out/', '<rootDir>/deploy/dist/'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  // One file at a time: the machine has two cores and the emulator serialises its work.
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/helpers/sequencer.js',
  testTimeout: 600_000,
  reporters: ['default', '<rootDir>/test/helpers/count-reporter.js'],
};
