import { Injectable, Logger } from '@nestjs/common';
import { EnvironmentVariables } from '../config/env.validation';
import { PeriodicSweep } from '../queues/periodic-sweep';
import { BatchService } from './batch.service';

/**
 * The other half of "persist first, enqueue second" for opportunity batches: every
 * REQUEUE_INTERVAL_MS the API enqueues again the batches PostgreSQL holds but Redis may not (Redis
 * was down at upload, or restarted and lost its jobs, or a worker died mid-batch). Ingestion is
 * idempotent per batch, so a redundant job changes nothing.
 */
@Injectable()
export class BatchRequeueScheduler extends PeriodicSweep<number> {
  protected readonly logger = new Logger(BatchRequeueScheduler.name);

  constructor(
    env: EnvironmentVariables,
    private readonly batches: BatchService,
  ) {
    super(env.REQUEUE_INTERVAL_MS, 0);
  }

  /** @returns batches enqueued again */
  protected async pass(): Promise<number> {
    const n = await this.batches.requeuePending();
    if (n > 0) this.logger.log(`re-enqueued ${n} batch(es)`);
    return n;
  }
}
