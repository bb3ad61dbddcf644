import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EnvironmentVariables } from '../config/env.validation';
import { ComputeReportPayload, IngestBatchPayload, JOBS, QUEUES } from './queue.constants';

/**
 * Adds jobs without ever hanging a request: BullMQ's `add` can wait forever while Redis is down
 * (pitfall P15, BullMQ #995), so each add races a timeout. The caller has already persisted the
 * work in PostgreSQL; a failed or timed-out add is retried later by the requeue sweeper, and the
 * processors are idempotent, so a late duplicate add changes nothing.
 */
@Injectable()
export class JobProducer {
  private readonly logger = new Logger(JobProducer.name);

  constructor(
    @InjectQueue(QUEUES.ingestion) private readonly ingestion: Queue<IngestBatchPayload>,
    @InjectQueue(QUEUES.analysis) private readonly analysis: Queue<ComputeReportPayload>,
    private readonly env: EnvironmentVariables,
  ) {}

  /** @returns true when the job is in Redis, false when Redis did not answer in time. */
  enqueueBatch(batchId: string): Promise<boolean> {
    return this.addWithTimeout(this.ingestion, JOBS.ingestBatch, { batchId });
  }

  /** @returns true when the job is in Redis, false when Redis did not answer in time. */
  enqueueReport(reportId: string): Promise<boolean> {
    return this.addWithTimeout(this.analysis, JOBS.computeReport, { reportId });
  }

  private async addWithTimeout<T>(queue: Queue<T>, name: string, data: T): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.env.ENQUEUE_TIMEOUT_MS);
    });
    try {
      const outcome = await Promise.race([(queue.add as (n: string, d: T) => Promise<unknown>)(name, data), timeout]);
      if (outcome === 'timeout') {
        this.logger.warn(`Redis did not accept ${queue.name}/${name} within ${this.env.ENQUEUE_TIMEOUT_MS} ms; will retry`);
        return false;
      }
      return true;
    } catch (err) {
      this.logger.warn(`Could not enqueue ${queue.name}/${name}: ${(err as Error).message}; will retry`);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
