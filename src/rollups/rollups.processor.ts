import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { QUEUES, RefreshRollupsPayload, WORKER_OPTIONS } from '../queues/queue.constants';
import { RefreshOutcome, RollupsService } from './rollups.service';

/**
 * Consumes the `rollups` queue: debounced refreshes after ingestion and the repeatable refresh of
 * every running pilot. A refresh is idempotent (it reads what changed from PostgreSQL), so retries
 * and duplicates are harmless; a failure leaves the previous rollups, which reports then bypass.
 */
@Processor(QUEUES.rollups, WORKER_OPTIONS.rollups)
export class RollupsProcessor extends WorkerHost {
  private readonly logger = new Logger(RollupsProcessor.name);

  constructor(private readonly rollups: RollupsService) {
    super();
  }

  process(job: Job<RefreshRollupsPayload>): Promise<RefreshOutcome> {
    return this.rollups.refresh(job.data.pilotId);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<RefreshRollupsPayload> | undefined, err: Error): void {
    this.logger.warn(`rollup refresh of pilot ${job?.data.pilotId} failed (attempt ${job?.attemptsMade}): ${err.message}`);
  }
}
