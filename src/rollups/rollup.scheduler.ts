import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EnvironmentVariables } from '../config/env.validation';
import { JobProducer } from '../queues/job-producer.service';
import { PeriodicSweep } from '../queues/periodic-sweep';
import { JOBS, QUEUES, RefreshRollupsPayload, rollupJobKey } from '../queues/queue.constants';
import { RollupsService } from './rollups.service';

/**
 * Keeps one BullMQ job scheduler (a repeatable `refresh-rollups` job every ROLLUP_REFRESH_MS) per
 * running pilot, and removes the schedulers of pilots that stopped. Runs in the API every
 * REQUEUE_INTERVAL_MS; each Redis call is bounded by ENQUEUE_TIMEOUT_MS, so a Redis outage only
 * delays it.
 */
type Reconciled = { upserted: number; removed: number } | null;

@Injectable()
export class RollupScheduler extends PeriodicSweep<Reconciled> {
  protected readonly logger = new Logger(RollupScheduler.name);

  constructor(
    @InjectQueue(QUEUES.rollups) private readonly queue: Queue<RefreshRollupsPayload>,
    private readonly rollups: RollupsService,
    private readonly producer: JobProducer,
    private readonly env: EnvironmentVariables,
  ) {
    super(env.REQUEUE_INTERVAL_MS, null);
  }

  /** One pass now. @returns schedulers added or updated, and removed; null when Redis did not answer or a pass was running. */
  reconcile(): Promise<Reconciled> {
    return this.sweep();
  }

  protected async pass(): Promise<Reconciled> {
    const pilots = await this.rollups.runningPilotIds();
    const existing = await this.producer.withTimeout(this.queue.getJobSchedulers(0, -1));
    if (existing === null) return null;
    const wanted = new Set(pilots.map(rollupJobKey));
    let upserted = 0;
    let removed = 0;
    for (const pilotId of pilots) {
      const have = existing.find((s) => s.key === rollupJobKey(pilotId) || s.id === rollupJobKey(pilotId));
      if (have && Number(have.every) === this.env.ROLLUP_REFRESH_MS) continue;
      const ok = await this.producer.withTimeout(
        this.queue.upsertJobScheduler(rollupJobKey(pilotId), { every: this.env.ROLLUP_REFRESH_MS }, { name: JOBS.refreshRollups, data: { pilotId } }),
      );
      if (ok === null) return null;
      upserted++;
    }
    for (const s of existing) {
      const id = String(s.id ?? s.key);
      if (id.startsWith('rollups:') && !wanted.has(id)) {
        if ((await this.producer.withTimeout(this.queue.removeJobScheduler(id))) === null) return null;
        removed++;
      }
    }
    if (upserted + removed > 0) this.logger.log(`rollup schedulers: ${upserted} added or updated, ${removed} removed`);
    return { upserted, removed };
  }
}
