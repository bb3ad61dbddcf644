import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { handleJobFailure } from '../queues/job-failure';
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
  onFailed(job: Job<IngestBatchPayload> | undefined, err: Error): Promise<void> {
    return handleJobFailure(this.logger, job, err, `batch ${job?.data.batchId}`, (reason) => this.ingestion.markFailed(job!.data.batchId, reason));
  }
}
