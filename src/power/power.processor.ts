import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { handleJobFailure } from '../queues/job-failure';
import { QUEUES, WORKER_OPTIONS } from '../queues/queue.constants';
import { PowerJobService } from './power-job.service';
import type { ComputePowerPayload } from '../queues/queue.constants';

/** Consumes the `power` queue: one job per power analysis, carrying only its id. */
@Processor(QUEUES.power, WORKER_OPTIONS.power)
export class PowerProcessor extends WorkerHost {
  private readonly logger = new Logger(PowerProcessor.name);

  constructor(private readonly jobs: PowerJobService) {
    super();
  }

  process(job: Job<ComputePowerPayload>): Promise<boolean> {
    return this.jobs.compute(job.data.powerAnalysisId, (fraction) => job.updateProgress(Math.round(100 * fraction)));
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<ComputePowerPayload> | undefined, err: Error): Promise<void> {
    return handleJobFailure(this.logger, job, err, `power analysis ${job?.data.powerAnalysisId}`, (reason) =>
      this.jobs.markFailed(job!.data.powerAnalysisId, reason),
    );
  }
}
