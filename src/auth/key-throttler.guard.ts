import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { AppException } from '../common/errors/app.exception';
import { presentedKey } from './api-key.guard';
import { hashApiKey } from './api-key.service';
import { PUBLIC_METADATA } from '../common/auth/roles';

/**
 * Rate limit per API key (@nestjs/throttler with its counters in Redis, FailOpenThrottlerStorage):
 * at most RATE_LIMIT_LIMIT requests per RATE_LIMIT_TTL_MS for one key over all routes together and
 * over every API process sharing Redis and QUEUE_PREFIX; requests without a key count per client
 * IP. Made-up keys each get a counter here, but their failures are limited per address and
 * globally by AuthFailureLimiter. Public routes (health, docs) are not limited. Over the limit: 429
 * RATE_LIMITED with a Retry-After header. The key is tracked by its SHA-256, never in clear.
 */
@Injectable()
export class KeyThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    return this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, [ctx.getHandler(), ctx.getClass()]) ?? false;
  }

  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const key = presentedKey(req as { headers: Record<string, string | string[] | undefined> } as never);
    return key ? `key:${hashApiKey(key)}` : `ip:${String(req.ip)}`;
  }

  /** One bucket per key for all routes (the default would keep one per route). */
  protected override generateKey(_ctx: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async throwThrottlingException(_ctx: ExecutionContext, d: ThrottlerLimitDetail): Promise<void> {
    throw new AppException('RATE_LIMITED', `Too many requests: at most ${d.limit} per ${Math.round(d.ttl / 1000)} s for one API key`, {
      limit: d.limit,
      window_ms: d.ttl,
      retry_after_s: d.timeToBlockExpire,
    });
  }
}
