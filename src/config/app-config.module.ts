import { DynamicModule, Global, Module } from '@nestjs/common';
import { EnvironmentVariables, validateEnvironment } from './env.validation';

/**
 * Provides the validated {@link EnvironmentVariables} to every module (inject the class itself).
 * `overrides` lets tests and the demo pin values without touching `process.env`.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(overrides: Partial<Record<keyof EnvironmentVariables, string | number>> = {}): DynamicModule {
    const env = validateEnvironment({ ...process.env, ...overrides });
    return {
      module: AppConfigModule,
      providers: [{ provide: EnvironmentVariables, useValue: env }],
      exports: [EnvironmentVariables],
    };
  }
}
