import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { ComputeReportPayload, QUEUES, WORKER_OPTIONS } from '../queues/queue.constants';
import { AnalysisService } from './analysis.service';

/** Consumes the `analysis` queue: one job per requested report, carrying only its id. */
@Processor(QUEUES.analysis, WORKER_OPTIONS.analysis)
export class AnalysisProcessor extends WorkerHost {
  private readonly logger = new Logger(AnalysisProcessor.name);

  constructor(private readonly analysis: AnalysisService) {
    super();
  }

  process(job: Job<ComputeReportPayload>): Promise<boolean> {
    return this.analysis.computeReport(job.data.reportId);
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<ComputeReportPayload> | undefined, err: Error): Promise<void> {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    this.logger.warn(`analysis job ${job.id} (report ${job.data.reportId}) failed attempt ${job.attemptsMade}/${attempts}: ${err.message}`);
    // Out of attempts, or a permanent failure that BullMQ will not retry.
    if (job.attemptsMade >= attempts || err instanceof UnrecoverableError) await this.analysis.markFailed(job.data.reportId, err.message);
  }
}
