import { INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { bodyParserErrorHandler } from './common/errors/body-parser-errors';
import { GlobalExceptionFilter } from './common/errors/global-exception.filter';
import { buildValidationPipe } from './common/validation/validation';
import { EnvironmentVariables } from './config/env.validation';
import { ConfigOverrides } from './core.module';
import { WorkerModule } from './worker.module';

/**
 * Applies what every HTTP instance needs (used by main.ts, the e2e tests and the demo, so they
 * run the same API): pino logger, body limits, the global validation pipe and exception filter,
 * shutdown hooks and the OpenAPI document at /docs.
 */
export function configureApp(app: NestExpressApplication): void {
  const env = app.get(EnvironmentVariables);
  app.useLogger(app.get(Logger));
  // Our own JSON parser (Nest's is off: see createApi) so its failures get our error shape.
  app.use(json({ limit: env.BODY_LIMIT }));
  app.use(bodyParserErrorHandler);
  app.useGlobalPipes(buildValidationPipe());
  app.useGlobalFilters(new GlobalExceptionFilter());
  app.enableShutdownHooks();
  const config = new DocumentBuilder()
    .setTitle('PilotLab API')
    .setDescription('Sales-model pilots: territories, pilots, assignment, opportunity ingestion, reports')
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}

/** Creates (not listening) the configured HTTP app. */
export async function createApi(overrides: ConfigOverrides = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(overrides), { bufferLogs: true, bodyParser: false });
  configureApp(app);
  return app;
}

/** Creates and initialises a worker context (consumers start on init). */
export async function createWorker(overrides: ConfigOverrides = {}): Promise<INestApplicationContext> {
  const ctx = await NestFactory.createApplicationContext(WorkerModule.forRoot(overrides), { bufferLogs: true });
  ctx.useLogger(ctx.get(Logger));
  ctx.enableShutdownHooks();
  await ctx.init();
  return ctx;
}

export type { INestApplication };
