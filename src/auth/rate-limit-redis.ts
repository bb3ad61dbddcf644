import { Logger } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';
import type { EnvironmentVariables } from '../config/env.validation';

/** Nest token of the ioredis client the rate limiters share. */
export const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');

/**
 * The Redis connection of the rate limiters (REDIS_HOST:REDIS_PORT, one per API process). It never
 * queues or retries a command while Redis is away (`enableOfflineQueue: false`,
 * `maxRetriesPerRequest: 0`, 1.5 s command timeout: 500 ms was exceeded by event-loop lag alone in
 * a busy process), so a request is never held up long by the limiter: the callers fail open (see
 * {@link FailOpenThrottlerStorage}, AuthFailureLimiter).
 */
export function rateLimitRedis(env: EnvironmentVariables): Redis {
  const redis = new Redis({
    host: env.REDIS_HOST,
    port: env.REDIS_PORT,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1_500,
    connectTimeout: 2_000,
    lazyConnect: false,
  });
  // Connection errors are reported by the callers that hit them; ioredis would otherwise log each retry.
  redis.on('error', () => undefined);
  return redis;
}

/** What the throttler storage answers per hit. */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Logs at most one warning per `everyMs` for a failing dependency, so an outage does not flood the log. */
export class ThrottledWarning {
  private last = 0;
  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 10_000,
  ) {}

  warn(message: string, err: unknown): void {
    const now = Date.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    this.logger.warn(`${message}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The throttler's counters in Redis (@nest-lab/throttler-storage-redis), so every API process that
 * shares REDIS_HOST:REDIS_PORT and QUEUE_PREFIX enforces one limit. Every key is stored under
 * `${prefix}:rate-limit:` (prefix = QUEUE_PREFIX), so deployments and test runs sharing a Redis keep
 * their own counters. Fails open: when Redis does not answer, the request is counted as allowed and
 * a warning is logged (at most every 10 s), because the API keeps serving without Redis (uploads are
 * persisted first) and a limiter outage must not turn into an API outage.
 */
export class FailOpenThrottlerStorage implements ThrottlerStorage {
  private readonly storage: ThrottlerStorageRedisService;
  private readonly warning = new ThrottledWarning(new Logger('RateLimit'));

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    this.storage = new ThrottlerStorageRedisService(redis);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    try {
      return await this.storage.increment(`${this.prefix}:rate-limit:${key}`, ttl, limit, blockDuration, throttlerName);
    } catch (err) {
      this.warning.warn('rate limit not enforced: Redis did not answer', err);
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }
}
