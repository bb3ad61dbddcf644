/**
 * Three tiers (house style): unit specs next to the code in src/, integration tests against the
 * real PostgreSQL and Redis in test/integration, e2e through the HTTP API in test/e2e.
 * Integration and e2e share one database, prepared once by test/utils/global-setup.ts, so the
 * suites run serially (maxWorkers 1 in those projects).
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/architecture/**/*.spec.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts', '<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/utils/global-setup.ts',
    },
  ],
};
