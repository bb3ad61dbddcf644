import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { AppException } from '../common/errors/app.exception';
import { EnvironmentVariables } from '../config/env.validation';
import { RATE_LIMIT_REDIS, ThrottledWarning } from './rate-limit-redis';

/** Counts one failure and reads the counter and its remaining window (ms) in one round trip. */
const COUNT_FAILURE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { n, ttl }`;

/** Reads a counter and its remaining window without counting. */
const READ = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
return { n, ttl }`;

/** One fixed-window counter: `count` failures, `retryAfterMs` left in the window. */
interface Window {
  count: number;
  retryAfterMs: number;
}

/**
 * Limits failed authentication (no key, or a key that is unknown or revoked) so made-up keys cannot
 * get around the per-key rate limit: at most AUTH_FAILURE_LIMIT failures per client address and
 * AUTH_FAILURE_GLOBAL_LIMIT over all addresses within AUTH_FAILURE_TTL_MS (fixed windows). An
 * address over its limit gets 429 RATE_LIMITED with Retry-After for every request until its window
 * ends, valid keys included (so the limit is not an oracle for guessed keys) and before any key
 * lookup; over the global limit, every failed authentication is answered 429 instead of 401. The
 * counters live in Redis under `${QUEUE_PREFIX}:auth-failures:`, shared by every API process on the
 * same Redis and prefix. Fails open (logged) when Redis does not answer, like the request limiter.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly warning = new ThrottledWarning(new Logger('AuthFailureLimiter'));

  constructor(
    @Inject(RATE_LIMIT_REDIS) private readonly redis: Redis,
    private readonly env: EnvironmentVariables,
  ) {}

  private keyOf(scope: 'address' | 'global', address?: string): string {
    const base = `${this.env.QUEUE_PREFIX}:auth-failures`;
    return scope === 'global' ? `${base}:global` : `${base}:address:${address}`;
  }

  private async run(script: string, key: string): Promise<Window | null> {
    try {
      const [count, ttl] = (await this.redis.eval(script, 1, key, this.env.AUTH_FAILURE_TTL_MS)) as [number, number];
      return { count, retryAfterMs: ttl > 0 ? ttl : this.env.AUTH_FAILURE_TTL_MS };
    } catch (err) {
      this.warning.warn('failed-authentication limit not enforced: Redis did not answer', err);
      return null;
    }
  }

  /** Before authenticating: @throws RATE_LIMITED (429) while `address` is over its failure limit. */
  async assertAddressAllowed(address: string): Promise<void> {
    const w = await this.run(READ, this.keyOf('address', address));
    if (w && w.count >= this.env.AUTH_FAILURE_LIMIT) this.refuse('address', w);
  }

  /**
   * Counts one failed authentication from `address` (and globally). @throws RATE_LIMITED (429) when
   * this failure reaches the address's limit or exceeds the global one; otherwise returns, and the
   * caller answers 401.
   */
  async recordFailure(address: string): Promise<void> {
    const [own, all] = await Promise.all([this.run(COUNT_FAILURE, this.keyOf('address', address)), this.run(COUNT_FAILURE, this.keyOf('global'))]);
    if (own && own.count > this.env.AUTH_FAILURE_LIMIT) this.refuse('address', own);
    if (all && all.count > this.env.AUTH_FAILURE_GLOBAL_LIMIT) this.refuse('global', all);
  }

  private refuse(scope: 'address' | 'global', w: Window): never {
    const limit = scope === 'address' ? this.env.AUTH_FAILURE_LIMIT : this.env.AUTH_FAILURE_GLOBAL_LIMIT;
    const seconds = Math.max(1, Math.ceil(w.retryAfterMs / 1000));
    throw new AppException(
      'RATE_LIMITED',
      scope === 'address'
        ? `Too many failed authentications from this address: at most ${limit} per ${Math.round(this.env.AUTH_FAILURE_TTL_MS / 1000)} s`
        : `Too many failed authentications across all clients: at most ${limit} per ${Math.round(this.env.AUTH_FAILURE_TTL_MS / 1000)} s`,
      { scope, limit, window_ms: this.env.AUTH_FAILURE_TTL_MS, retry_after_s: seconds },
    );
  }
}
