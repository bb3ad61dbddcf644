import { randomBytes } from 'node:crypto';

/** The database every integration and e2e test uses (created and migrated by global-setup.ts). */
export const TEST_DB_NAME = process.env.TEST_DB_NAME ?? 'pilotlab_test';

/**
 * Config overrides for a test stack: the test database, a queue prefix of its own (so suites and
 * developers' running services never consume each other's jobs), fast requeue timings.
 */
export function testOverrides(extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    NODE_ENV: 'test',
    DB_NAME: TEST_DB_NAME,
    QUEUE_PREFIX: `pilotlab-test-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...extra,
  };
}
