import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DependencyHealthService } from './dependency-health.service';
import { RedisHealthIndicator } from './redis.health';

/**
 * Health checks of PostgreSQL and Redis (@nestjs/terminus), for the API's `GET /health`
 * (HealthController, registered by AppModule) and the worker's endpoint (WorkerHealthServer).
 * Terminus' own logger is off: a failing probe every few seconds is not an error log line each time.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  providers: [RedisHealthIndicator, DependencyHealthService],
  exports: [DependencyHealthService],
})
export class HealthModule {}
