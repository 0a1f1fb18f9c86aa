// Four layers, one runner. Workflow and integration tests share a workflow bundle made once per run
// (test/setup/bundle-workflows.ts); integration tests get their own dev stack on free ports.
/** @type {import('jest').Config} */
const shared = {
  // Node's environment, plus logs printed only for tests that fail (test/setup/test-environment.js).
  testEnvironment: '<rootDir>/test/setup/test-environment.js',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  // A global option in Jest 30 (ignored inside a project): generous for the workflow and integration
  // layers, which run real servers; unit tests finish in milliseconds anyway.
  testTimeout: 120_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'workflow',
      testMatch: ['<rootDir>/test/workflow/**/*.test.ts'],
      globalSetup: '<rootDir>/test/setup/workflow-global-setup.ts',
      setupFiles: ['<rootDir>/test/setup/quiet-runtime.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/setup/integration-global-setup.ts',
      setupFiles: ['<rootDir>/test/setup/quiet-runtime.ts'],
      globalTeardown: '<rootDir>/test/setup/integration-global-teardown.ts',
    },
    {
      // The integration stack, with AWS faults injected on the wire (test/helpers/aws-faults.ts).
      ...shared,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/setup/integration-global-setup.ts',
      setupFiles: ['<rootDir>/test/setup/quiet-runtime.ts'],
      globalTeardown: '<rootDir>/test/setup/integration-global-teardown.ts',
    },
  ],
};
