import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { EnvironmentVariables } from '../config/env.validation';
import { ComputePowerPayload, ComputeReportPayload, IngestBatchPayload, JOBS, QUEUES, RefreshRollupsPayload, rollupJobKey } from './queue.constants';

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
    @InjectQueue(QUEUES.rollups) private readonly rollups: Queue<RefreshRollupsPayload>,
    @InjectQueue(QUEUES.power) private readonly power: Queue<ComputePowerPayload>,
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

  /** @returns true when the power simulation job is in Redis, false when Redis did not answer in time. */
  enqueuePower(powerAnalysisId: string): Promise<boolean> {
    return this.addWithTimeout(this.power, JOBS.computePower, { powerAnalysisId });
  }

  /**
   * A rollup refresh for the pilot, debounced: BullMQ deduplication in debounce mode (one delayed
   * job per pilot, its delay restarted and its data replaced by every add within
   * ROLLUP_DEBOUNCE_MS). Dropping an add here is intended and harmless: the refresh reads what
   * changed from PostgreSQL, and the repeatable per-pilot refresh catches up anyway.
   * @returns true when Redis accepted the add.
   */
  enqueueRollupRefresh(pilotId: string): Promise<boolean> {
    const ttl = this.env.ROLLUP_DEBOUNCE_MS;
    return this.addWithTimeout(this.rollups, JOBS.refreshRollups, { pilotId }, {
      delay: ttl,
      deduplication: { id: rollupJobKey(pilotId), ttl, extend: true, replace: true },
    });
  }

  /**
   * Jobs waiting, delayed or active in `queue` (the backlog the API compares with
   * QUEUE_MAX_DEPTH), or null when Redis does not answer within ENQUEUE_TIMEOUT_MS.
   */
  async depth(queue: 'ingestion' | 'analysis'): Promise<number | null> {
    const q = queue === 'ingestion' ? this.ingestion : this.analysis;
    return this.withTimeout(q.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized', 'paused'));
  }

  /** Resolves `p`, or null when it fails or takes longer than ENQUEUE_TIMEOUT_MS (never hangs). */
  async withTimeout<R>(p: Promise<R>): Promise<R | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.env.ENQUEUE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([p, timeout]);
    } catch (err) {
      this.logger.warn(`Redis call failed: ${(err as Error).message}`);
      return null;
    } finally {
      clearTimeout(timer);
      p.catch(() => undefined);
    }
  }

  private async addWithTimeout<T>(queue: Queue<T>, name: string, data: T, opts?: JobsOptions): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.env.ENQUEUE_TIMEOUT_MS);
    });
    try {
      const outcome = await Promise.race([(queue.add as (n: string, d: T, o?: JobsOptions) => Promise<unknown>)(name, data, opts), timeout]);
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
