import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { IngestBatchPayload, QUEUES, WORKER_OPTIONS } from '../queues/queue.constants';
import { IngestionOutcome, IngestionService } from './ingestion.service';

/** Consumes the `ingestion` queue: one job per stored batch, carrying only its id. */
@Processor(QUEUES.ingestion, WORKER_OPTIONS.ingestion)
export class IngestionProcessor extends WorkerHost {
  private readonly logger = new Logger(IngestionProcessor.name);

  constructor(private readonly ingestion: IngestionService) {
    super();
  }

  process(job: Job<IngestBatchPayload>): Promise<IngestionOutcome> {
    return this.ingestion.processBatch(job.data.batchId, (rows) => job.updateProgress({ rows }));
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<IngestBatchPayload> | undefined, err: Error): Promise<void> {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    this.logger.warn(`ingestion job ${job.id} (batch ${job.data.batchId}) failed attempt ${job.attemptsMade}/${attempts}: ${err.message}`);
    // Out of attempts, or a permanent failure that BullMQ will not retry.
    if (job.attemptsMade >= attempts || err instanceof UnrecoverableError) await this.ingestion.markFailed(job.data.batchId, err.message);
  }
}
