import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EnvironmentVariables } from '../config/env.validation';
import { PowerService } from './power.service';

/**
 * The API-side sweeper of power analyses (same rule as the batch/report sweeper): every
 * REQUEUE_INTERVAL_MS it enqueues again the analyses PostgreSQL holds but Redis may have lost.
 * The job is idempotent, so a redundant one changes nothing.
 */
@Injectable()
export class PowerRequeueScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PowerRequeueScheduler.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly env: EnvironmentVariables,
    private readonly power: PowerService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.env.REQUEUE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass; overlapping passes are skipped. @returns analyses enqueued. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const n = await this.power.requeuePending();
      if (n > 0) this.logger.log(`re-enqueued ${n} power analysis(es)`);
      return n;
    } catch (err) {
      this.logger.warn(`power requeue sweep failed: ${(err as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
