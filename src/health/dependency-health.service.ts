import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { Dependency } from '../common/errors/dependency-failure';
import { RedisHealthIndicator } from './redis.health';

/** How long each dependency has to answer a health check. */
export const HEALTH_TIMEOUT_MS = 1_000;

const DEPENDENCIES: readonly Dependency[] = ['postgres', 'redis'];

/**
 * The health body of the API and the worker: terminus' result (`status` 'ok' or 'error', `info`,
 * `error`, `details` per dependency) plus `postgres` and `redis` booleans and `down`, the list of
 * the dependencies that did not answer.
 */
export interface HealthBody extends HealthCheckResult {
  postgres: boolean;
  redis: boolean;
  down: Dependency[];
}

/**
 * Checks PostgreSQL (terminus' TypeORM ping, `SELECT 1`) and Redis (PING on the BullMQ connection),
 * each within {@link HEALTH_TIMEOUT_MS}. Shared by `GET /health` of the API and the worker's health
 * endpoint, so both answer the same.
 */
@Injectable()
export class DependencyHealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /** @returns `ok` (every dependency up) and the body to send with 200 (ok) or 503. */
  async check(): Promise<{ ok: boolean; body: HealthBody }> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => this.db.pingCheck('postgres', { timeout: HEALTH_TIMEOUT_MS }),
        () => this.redis.pingCheck('redis', HEALTH_TIMEOUT_MS),
      ]);
    } catch (err) {
      // terminus answers a failed check with a ServiceUnavailableException carrying the result
      if (!(err instanceof ServiceUnavailableException)) throw err;
      result = err.getResponse() as HealthCheckResult;
    }
    const up = (d: Dependency) => result.details[d]?.status === 'up';
    const body: HealthBody = { ...result, postgres: up('postgres'), redis: up('redis'), down: DEPENDENCIES.filter((d) => !up(d)) };
    return { ok: result.status === 'ok' && body.down.length === 0, body };
  }
}
