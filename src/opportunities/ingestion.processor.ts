import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { handleJobFailure } from '../queues/job-failure';
import { JobProducer } from '../queues/job-producer.service';
import { IngestBatchPayload, QUEUES, WORKER_OPTIONS } from '../queues/queue.constants';
import { RollupsService } from '../rollups/rollups.service';
import { IngestionOutcome, IngestionService } from './ingestion.service';

/**
 * Consumes the `ingestion` queue: one job per stored batch, carrying only its id. After a batch
 * commits, every running pilot gets a debounced rollup refresh (best effort: the repeatable
 * refresh catches up when Redis drops it).
 */
@Processor(QUEUES.ingestion, WORKER_OPTIONS.ingestion)
export class IngestionProcessor extends WorkerHost {
  private readonly logger = new Logger(IngestionProcessor.name);

  constructor(
    private readonly ingestion: IngestionService,
    private readonly rollups: RollupsService,
    private readonly producer: JobProducer,
  ) {
    super();
  }

  async process(job: Job<IngestBatchPayload>): Promise<IngestionOutcome> {
    const outcome = await this.ingestion.processBatch(job.data.batchId, (rows) => job.updateProgress({ rows }));
    if (!outcome.skipped) {
      for (const pilotId of await this.rollups.runningPilotIds()) await this.producer.enqueueRollupRefresh(pilotId);
    }
    return outcome;
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<IngestBatchPayload> | undefined, err: Error): Promise<void> {
    return handleJobFailure(this.logger, job, err, `batch ${job?.data.batchId}`, (reason) => this.ingestion.markFailed(job!.data.batchId, reason));
  }
}
