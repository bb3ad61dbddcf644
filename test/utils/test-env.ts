import { randomBytes } from 'node:crypto';

/** The database every integration and e2e test uses (created and migrated by global-setup.ts). */
export const TEST_DB_NAME = process.env.TEST_DB_NAME ?? 'pilotlab_test';

/** The bootstrap admin key of every test stack; requests through `stack.http` without a key send it. */
export const TEST_ADMIN_KEY = 'test-bootstrap-admin-key-0123456789abcdef';

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
    BOOTSTRAP_ADMIN_KEY: TEST_ADMIN_KEY,
    // Tests poll every 50 ms with one key; the rate-limit test sets its own low limit.
    RATE_LIMIT_LIMIT: 100_000_000,
    // Access-control tests fail authentication on purpose; the failed-authentication test sets its own limits.
    AUTH_FAILURE_LIMIT: 100_000_000,
    AUTH_FAILURE_GLOBAL_LIMIT: 100_000_000,
    ...extra,
  };
}
