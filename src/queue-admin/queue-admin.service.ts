import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { AppException } from '../common/errors/app.exception';
import { EnvironmentVariables } from '../config/env.validation';
import { JobProducer } from '../queues/job-producer.service';
import { QUEUES, QueueName } from '../queues/queue.constants';

/** One failed job as the API shows it. */
export interface FailedJobView {
  job_id: string;
  name: string;
  data: unknown;
  failed_reason: string;
  attempts_made: number;
  failed_at: string | null;
}

/**
 * Operations on the queues: counts, failed jobs (kept up to `removeOnFail`), and retry of a failed
 * job, for every queue the product has. A retried ingestion, report or power job first puts its
 * batch, report or power analysis back to `queued` (the
 * processors skip failed work), in PostgreSQL, then asks BullMQ to retry the job. Every Redis call
 * is bounded by ENQUEUE_TIMEOUT_MS: Redis down gives a fast 503, never a hung request.
 */
@Injectable()
export class QueueAdminService {
  private readonly queues: Record<string, Queue>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly env: EnvironmentVariables,
    @InjectQueue(QUEUES.ingestion) ingestion: Queue,
    @InjectQueue(QUEUES.analysis) analysis: Queue,
    @InjectQueue(QUEUES.rollups) rollups: Queue,
    @InjectQueue(QUEUES.governance) governance: Queue,
    @InjectQueue(QUEUES.power) power: Queue,
  ) {
    this.queues = { ingestion, analysis, rollups, governance, power };
  }

  /** Job counts of every queue. @throws DEPENDENCY_UNAVAILABLE when Redis does not answer */
  async counts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, q] of Object.entries(this.queues)) {
      out[name] = await this.redis(q.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'paused'));
    }
    return out;
  }

  /** Failed jobs of `queue`, newest first. @throws NOT_FOUND (queue), DEPENDENCY_UNAVAILABLE */
  async failed(queue: string, limit: number, offset: number): Promise<{ queue: string; total: number; items: FailedJobView[] }> {
    const q = this.queue(queue);
    const total = await this.redis(q.getFailedCount());
    const jobs = await this.redis(q.getFailed(offset, offset + limit - 1));
    return { queue, total, items: jobs.filter(Boolean).map(view) };
  }

  /** Retries failed job `jobId` of `queue`. @throws NOT_FOUND, JOB_NOT_FOUND, INVALID_STATE, DEPENDENCY_UNAVAILABLE */
  async retry(queue: string, jobId: string): Promise<{ queue: string; job_id: string; retried: true }> {
    const q = this.queue(queue);
    const job = await this.redis(q.getJob(jobId));
    if (!job) throw new AppException('JOB_NOT_FOUND', `No job ${jobId} in queue ${queue}`);
    const state = await this.redis(job.getState());
    if (state !== 'failed') throw new AppException('INVALID_STATE', `Job ${jobId} is ${state}; only a failed job can be retried`, { state });
    const data = job.data as { batchId?: string; reportId?: string; powerAnalysisId?: string };
    if (queue === QUEUES.ingestion && data.batchId) {
      await this.dataSource.query(
        `UPDATE opportunity_batches SET status = 'queued', error = NULL, completed_at = NULL, started_at = NULL, rows_processed = 0
          WHERE id = $1 AND status = 'failed'`,
        [data.batchId],
      );
    }
    if (queue === QUEUES.analysis && data.reportId) {
      await this.dataSource.query(`UPDATE reports SET status = 'queued', error = NULL, completed_at = NULL WHERE id = $1 AND status = 'failed'`, [data.reportId]);
    }
    if (queue === QUEUES.power && data.powerAnalysisId) {
      await this.dataSource.query(`UPDATE power_analyses SET status = 'queued', error = NULL, completed_at = NULL WHERE id = $1 AND status = 'failed'`, [
        data.powerAnalysisId,
      ]);
    }
    await this.redis(job.retry('failed'));
    return { queue, job_id: jobId, retried: true };
  }

  private queue(name: string): Queue {
    const q = (this.queues as Record<string, Queue | undefined>)[name];
    if (!q) throw new AppException('NOT_FOUND', `No queue '${name}' (known: ${Object.keys(this.queues).join(', ')})`);
    return q;
  }

  private async redis<T>(p: Promise<T>): Promise<T> {
    const out = await this.producer.withTimeout(p.then((v) => ({ v })));
    if (out === null) {
      const seconds = this.env.DEPENDENCY_RETRY_AFTER_S;
      throw new AppException('DEPENDENCY_UNAVAILABLE', `Redis did not answer; retry in ${seconds} s`, { dependency: 'redis', retry_after_seconds: seconds });
    }
    return out.v;
  }
}

function view(job: Job): FailedJobView {
  return {
    job_id: String(job.id),
    name: job.name,
    data: job.data,
    failed_reason: job.failedReason,
    attempts_made: job.attemptsMade,
    failed_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}
