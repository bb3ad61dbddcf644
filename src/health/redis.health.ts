import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Queue } from 'bullmq';
import { QUEUES } from '../queues/queue.constants';

/** Resolves `work`, or rejects after `ms` milliseconds (the pending promise is then ignored). */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A terminus health indicator for Redis: PING on the Redis connection of the BullMQ `ingestion`
 * queue (the connection jobs are added through), up when PONG arrives within `timeoutMs`.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectQueue(QUEUES.ingestion) private readonly ingestion: Queue,
  ) {}

  /** `{[key]: {status: 'up'}}`, or `{[key]: {status: 'down', message}}` when Redis does not answer. */
  async pingCheck<const Key extends string>(key: Key, timeoutMs: number): Promise<HealthIndicatorResult<Key>> {
    const check = this.indicators.check(key);
    try {
      await within(timeoutMs, this.ingestion.client.then((c) => (c as unknown as { ping(): Promise<string> }).ping()));
      return check.up();
    } catch (err) {
      return check.down({ message: (err as Error).message });
    }
  }
}
