import { Injectable, Logger } from '@nestjs/common';
import { EnvironmentVariables } from '../config/env.validation';
import { PeriodicSweep } from '../queues/periodic-sweep';
import { PowerService } from './power.service';

/**
 * The API-side sweeper of power analyses (same rule as the batch/report sweepers): every
 * REQUEUE_INTERVAL_MS it enqueues again the analyses PostgreSQL holds but Redis may have lost.
 * The job is idempotent, so a redundant one changes nothing.
 */
@Injectable()
export class PowerRequeueScheduler extends PeriodicSweep<number> {
  protected readonly logger = new Logger(PowerRequeueScheduler.name);

  constructor(
    env: EnvironmentVariables,
    private readonly power: PowerService,
  ) {
    super(env.REQUEUE_INTERVAL_MS, 0);
  }

  /** @returns analyses enqueued again */
  protected async pass(): Promise<number> {
    const n = await this.power.requeuePending();
    if (n > 0) this.logger.log(`re-enqueued ${n} power analysis(es)`);
    return n;
  }
}
