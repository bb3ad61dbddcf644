import { Injectable, Logger } from '@nestjs/common';
import { EnvironmentVariables } from '../config/env.validation';
import { PeriodicSweep } from '../queues/periodic-sweep';
import { ReportsService } from './reports.service';

/**
 * The API-side sweeper of requested reports (same rule as the batch sweeper): every
 * REQUEUE_INTERVAL_MS it enqueues again the reports PostgreSQL holds but Redis may have lost.
 * Report building is idempotent per report row, so a redundant job changes nothing.
 */
@Injectable()
export class ReportRequeueScheduler extends PeriodicSweep<number> {
  protected readonly logger = new Logger(ReportRequeueScheduler.name);

  constructor(
    env: EnvironmentVariables,
    private readonly reports: ReportsService,
  ) {
    super(env.REQUEUE_INTERVAL_MS, 0);
  }

  /** @returns reports enqueued again */
  protected async pass(): Promise<number> {
    const n = await this.reports.requeuePending();
    if (n > 0) this.logger.log(`re-enqueued ${n} report(s)`);
    return n;
  }
}
