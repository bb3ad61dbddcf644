import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { AppConfigModule } from './config/app-config.module';
import { EnvironmentVariables } from './config/env.validation';
import { buildDataSourceOptions } from './database/typeorm-options';
import { QueuesModule } from './queues/queues.module';

export type ConfigOverrides = Parameters<typeof AppConfigModule.forRoot>[0];

/** What the API and the worker share: validated config, logging, PostgreSQL and BullMQ. */
@Module({})
export class CoreModule {
  static forRoot(overrides: ConfigOverrides = {}, role: 'api' | 'worker' = 'api'): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        AppConfigModule.forRoot(overrides),
        LoggerModule.forRootAsync({
          inject: [EnvironmentVariables],
          useFactory: (env: EnvironmentVariables) => ({
            pinoHttp: {
              level: env.LOG_LEVEL,
              genReqId: (req, res) => {
                const incoming = req.headers['x-request-id'];
                const id = typeof incoming === 'string' && /^[\w-]{1,100}$/.test(incoming) ? incoming : randomUUID();
                res.setHeader('x-request-id', id);
                return id;
              },
              redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'], censor: '[redacted]' },
              autoLogging: { ignore: (req) => req.url === '/health' },
            },
          }),
        }),
        TypeOrmModule.forRootAsync({
          inject: [EnvironmentVariables],
          useFactory: (env: EnvironmentVariables) => buildDataSourceOptions(env),
        }),
        QueuesModule.forRoot(role),
      ],
      exports: [AppConfigModule],
    };
  }
}
