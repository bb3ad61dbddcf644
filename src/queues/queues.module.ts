import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { EnvironmentVariables } from '../config/env.validation';
import { DEFAULT_JOB_OPTIONS, QUEUES } from './queue.constants';
import { JobProducer } from './job-producer.service';

/**
 * BullMQ wiring shared by the API and the worker: one Redis connection config, the key prefix, and
 * the queues. `role: 'api'` registers producer connections that do not queue commands while Redis
 * is down (`enableOfflineQueue: false`, one retry), so adds fail fast; `role: 'worker'` registers
 * the blocking connections workers need (`maxRetriesPerRequest: null`).
 */
@Global()
@Module({})
export class QueuesModule {
  static forRoot(role: 'api' | 'worker'): DynamicModule {
    return {
      module: QueuesModule,
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
              connection:
                role === 'api'
                  ? { host: env.REDIS_HOST, port: env.REDIS_PORT, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 }
                  : { host: env.REDIS_HOST, port: env.REDIS_PORT, maxRetriesPerRequest: null },
              prefix: env.QUEUE_PREFIX,
              defaultJobOptions: DEFAULT_JOB_OPTIONS,
            }),
          }),
        ),
      ],
      providers: [JobProducer],
      exports: [JobProducer, BullModule],
    };
  }
}
