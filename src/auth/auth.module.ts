import { Module } from '@nestjs/common';
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

/**
 * API keys and access control for the HTTP API: the rate limiter (per key), then the key guard
 * (authentication and the @Roles rule of the handler), and the audit interceptor, all global.
 */
@Module({
  imports: [
    AuditModule,
    ThrottlerModule.forRootAsync({
      inject: [EnvironmentVariables],
      useFactory: (env: EnvironmentVariables) => ({ throttlers: [{ name: 'default', ttl: env.RATE_LIMIT_TTL_MS, limit: env.RATE_LIMIT_LIMIT }] }),
    }),
  ],
  controllers: [ApiKeysController, AuditController],
  providers: [
    ApiKeyService,
    { provide: APP_GUARD, useClass: KeyThrottlerGuard },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [ApiKeyService],
})
export class AuthModule {}
