import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { EnvironmentVariables } from '../config/env.validation';
import { DEFAULT_JOB_OPTIONS, QUEUES } from './queue.constants';
import { JobProducer } from './job-producer.service';

/**
 * BullMQ wiring shared by the API and the worker: one Redis connection config (workers need
 * `maxRetriesPerRequest: null`), the key prefix, and the producer queues. Producer connections
 * do not queue commands while Redis is down (`enableOfflineQueue: false`), so adds fail fast.
 */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [EnvironmentVariables],
      useFactory: (env: EnvironmentVariables) => ({
        connection: { host: env.REDIS_HOST, port: env.REDIS_PORT, maxRetriesPerRequest: null },
        prefix: env.QUEUE_PREFIX,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      }),
    }),
    ...Object.values(QUEUES).map((name) =>
      BullModule.registerQueueAsync({
        name,
        inject: [EnvironmentVariables],
        useFactory: (env: EnvironmentVariables) => ({
          connection: {
            host: env.REDIS_HOST,
            port: env.REDIS_PORT,
            enableOfflineQueue: false,
            maxRetriesPerRequest: 1,
            connectTimeout: 2_000,
          },
          prefix: env.QUEUE_PREFIX,
          defaultJobOptions: DEFAULT_JOB_OPTIONS,
        }),
      }),
    ),
  ],
  providers: [JobProducer],
  exports: [JobProducer, BullModule],
})
export class QueuesModule {}
