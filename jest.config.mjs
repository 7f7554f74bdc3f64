/** Jest runs the TypeScript sources as ES modules (client-node 2.x is ESM-only); tsc type-checks separately. */
export default {
  extensionsToTreatAsEsm: ['.ts'],
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30000,
  // Jest's default is one worker fewer than the cores: on a 2-core machine that is one, and the end-to-end tests,
  // which mostly wait on child processes and timers, would run one file at a time.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.mjs'],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
};
