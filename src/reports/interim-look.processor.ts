import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { ReportBuilderService } from './building/report-builder.service';
import { EnvironmentVariables } from '../config/env.validation';
import { JOBS, QUEUES, WORKER_OPTIONS } from '../queues/queue.constants';
import { InterimLookService } from '../governance/interim-look.service';

/** The job scheduler id of the interim-look sweep (one per queue prefix; upserted at worker start). */
export const INTERIM_LOOK_SCHEDULER_ID = 'interim-look-sweep';

/**
 * Consumes the `governance` queue: a repeatable job (BullMQ job scheduler, every
 * INTERIM_LOOK_SWEEP_MS) that takes the due interim looks of running pilots.
 */
@Processor(QUEUES.governance, WORKER_OPTIONS.governance)
export class InterimLookProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(InterimLookProcessor.name);

  constructor(
    private readonly looks: InterimLookService,
    private readonly analysis: ReportBuilderService,
    private readonly env: EnvironmentVariables,
    @InjectQueue(QUEUES.governance) private readonly queue: Queue,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      INTERIM_LOOK_SCHEDULER_ID,
      { every: this.env.INTERIM_LOOK_SWEEP_MS },
      { name: JOBS.interimLookSweep, data: {}, opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
    );
  }

  async process(job: Job): Promise<number> {
    if (job.name !== JOBS.interimLookSweep) return 0;
    const n = await this.looks.sweep((reportId) => this.analysis.computeReport(reportId));
    if (n) this.logger.log(`took ${n} interim look(s)`);
    return n;
  }
}
