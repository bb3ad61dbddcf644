import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EnvironmentVariables } from '../config/env.validation';
import { BatchService } from '../opportunities/batch.service';
import { ReportsService } from '../reports/reports.service';

/**
 * The other half of "persist first, enqueue second": every REQUEUE_INTERVAL_MS the API enqueues
 * again the batches and reports that PostgreSQL holds but Redis may not (Redis was down at upload,
 * or restarted and lost its jobs). Processing is idempotent, so a redundant job changes nothing.
 */
@Injectable()
export class RequeueScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RequeueScheduler.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly env: EnvironmentVariables,
    private readonly batches: BatchService,
    private readonly reports: ReportsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.env.REQUEUE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass; overlapping passes are skipped. @returns batches and reports enqueued. */
  async sweep(): Promise<{ batches: number; reports: number }> {
    if (this.running) return { batches: 0, reports: 0 };
    this.running = true;
    try {
      const batches = await this.batches.requeuePending();
      const reports = await this.reports.requeuePending();
      if (batches + reports > 0) this.logger.log(`re-enqueued ${batches} batch(es) and ${reports} report(s)`);
      return { batches, reports };
    } catch (err) {
      this.logger.warn(`requeue sweep failed: ${(err as Error).message}`);
      return { batches: 0, reports: 0 };
    } finally {
      this.running = false;
    }
  }
}
