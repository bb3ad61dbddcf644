import { Inject, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuditController } from '../audit/audit.controller';
import { AuditInterceptor } from '../audit/audit.interceptor';
import { AuditModule } from '../audit/audit.module';
import { EnvironmentVariables } from '../config/env.validation';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyService } from './api-key.service';
import { ApiKeysController } from './api-keys.controller';
import { KeyThrottlerGuard } from './key-throttler.guard';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { FailOpenThrottlerStorage, RATE_LIMIT_REDIS, rateLimitRedis } from './rate-limit-redis';

/** Disconnects the rate limiters' Redis client at shutdown. */
@Injectable()
class RateLimitRedisCloser implements OnModuleDestroy {
  constructor(@Inject(RATE_LIMIT_REDIS) private readonly redis: Redis) {}
  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}

/** The rate limiters' Redis client (one per API process), closed with the app. */
@Module({
  providers: [{ provide: RATE_LIMIT_REDIS, inject: [EnvironmentVariables], useFactory: rateLimitRedis }, RateLimitRedisCloser],
  exports: [RATE_LIMIT_REDIS],
})
class RateLimitRedisModule {}

/**
 * API keys and access control for the HTTP API: the rate limiter (per key, counters in Redis), then
 * the key guard (authentication with its failed-authentication limit, and the @Roles rule of the
 * handler), and the audit interceptor, all global.
 */
@Module({
  imports: [
    AuditModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitRedisModule],
      inject: [EnvironmentVariables, RATE_LIMIT_REDIS],
      useFactory: (env: EnvironmentVariables, redis: Redis) => ({
        throttlers: [{ name: 'default', ttl: env.RATE_LIMIT_TTL_MS, limit: env.RATE_LIMIT_LIMIT }],
        storage: new FailOpenThrottlerStorage(redis, env.QUEUE_PREFIX),
      }),
    }),
    RateLimitRedisModule,
  ],
  controllers: [ApiKeysController, AuditController],
  providers: [
    ApiKeyService,
    AuthFailureLimiter,
    { provide: APP_GUARD, useClass: KeyThrottlerGuard },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [ApiKeyService],
})
export class AuthModule {}
