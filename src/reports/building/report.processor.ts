import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { handleJobFailure } from '../../queues/job-failure';
import { ComputeReportPayload, QUEUES, WORKER_OPTIONS } from '../../queues/queue.constants';
import { ReportBuilderService } from './report-builder.service';

/** Consumes the `analysis` queue: one job per requested report, carrying only its id. */
@Processor(QUEUES.analysis, WORKER_OPTIONS.analysis)
export class ReportProcessor extends WorkerHost {
  private readonly logger = new Logger(ReportProcessor.name);

  constructor(private readonly analysis: ReportBuilderService) {
    super();
  }

  process(job: Job<ComputeReportPayload>): Promise<boolean> {
    return this.analysis.computeReport(job.data.reportId);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<ComputeReportPayload> | undefined, err: Error): Promise<void> {
    return handleJobFailure(this.logger, job, err, `report ${job?.data.reportId}`, (reason) => this.analysis.markFailed(job!.data.reportId, reason));
  }
}
