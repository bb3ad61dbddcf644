import { Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';

/**
 * Shared 'failed' handling of our processors: logs the attempt and, when the failure is final (out
 * of attempts, or an UnrecoverableError that BullMQ will not retry), calls `markFailed` so the
 * PostgreSQL record (batch or report) says failed with the reason.
 */
export async function handleJobFailure(
  logger: Logger,
  job: Job | undefined,
  err: Error,
  subject: string,
  markFailed: (reason: string) => Promise<void>,
): Promise<void> {
  if (!job) return;
  const attempts = job.opts.attempts ?? 1;
  logger.warn(`${job.queueName} job ${job.id} (${subject}) failed attempt ${job.attemptsMade}/${attempts}: ${err.message}`);
  if (job.attemptsMade >= attempts || err instanceof UnrecoverableError) await markFailed(err.message);
}
