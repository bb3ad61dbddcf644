import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { AppException } from '../common/errors/app.exception';
import { EnvironmentVariables } from '../config/env.validation';
import { JobProducer } from './job-producer.service';

/**
 * Back-pressure for uploads: while the ingestion queue holds more than QUEUE_MAX_DEPTH jobs
 * (waiting, delayed, active), a new batch is refused with 429 QUEUE_FULL and a `Retry-After`
 * header (QUEUE_RETRY_AFTER_S), before its body is read or stored. When Redis does not answer
 * within ENQUEUE_TIMEOUT_MS the check is skipped: the batch is then kept in PostgreSQL and
 * enqueued later (pitfall P15), so the request never hangs.
 */
@Injectable()
export class QueueDepthGuard implements CanActivate {
  constructor(
    private readonly producer: JobProducer,
    private readonly env: EnvironmentVariables,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const depth = await this.producer.depth('ingestion');
    if (depth !== null && depth > this.env.QUEUE_MAX_DEPTH) {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(this.env.QUEUE_RETRY_AFTER_S));
      throw new AppException('QUEUE_FULL', `The ingestion queue holds ${depth} jobs (limit ${this.env.QUEUE_MAX_DEPTH}); retry in ${this.env.QUEUE_RETRY_AFTER_S} s`, {
        queue: 'ingestion',
        depth,
        max_depth: this.env.QUEUE_MAX_DEPTH,
        retry_after_seconds: this.env.QUEUE_RETRY_AFTER_S,
      });
    }
    return true;
  }
}
