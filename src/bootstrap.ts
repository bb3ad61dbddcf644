import { INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { bodyParserErrorHandler } from './common/errors/body-parser-errors';
import { GlobalExceptionFilter } from './common/errors/global-exception.filter';
import { RejectUnsafeInputPipe } from './common/validation/unsafe-input';
import { buildValidationPipe } from './common/validation/validation';
import { EnvironmentVariables } from './config/env.validation';
import { ConfigOverrides } from './core.module';
import { WorkerModule } from './worker.module';

/**
 * Gives every request an id before anything else runs (so body-parser failures carry it too): the
 * incoming `x-request-id` when it matches `[\w-]{1,100}`, else a new UUID. The id is set on
 * `req.id`, echoed in the `x-request-id` response header, and written back to the request header so
 * the request logger (pino-http genReqId in core.module.ts) logs the same id.
 */
export function requestIdMiddleware(req: Request & { id?: unknown }, res: Response, next: NextFunction): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && /^[\w-]{1,100}$/.test(incoming) ? incoming : randomUUID();
  req.headers['x-request-id'] = id;
  req.id = id;
  res.setHeader('x-request-id', id);
  next();
}

/**
 * Applies what every HTTP instance needs (used by main.ts, the e2e tests and the demo, so they
 * run the same API): request ids, security headers (helmet), pino logger, body limits, the global
 * validation pipe and exception filter, shutdown hooks and the OpenAPI document at /docs (with the
 * `x-api-key` security scheme). Authentication, roles and rate limiting are global guards (auth/).
 */
export function configureApp(app: NestExpressApplication): void {
  const env = app.get(EnvironmentVariables);
  app.useLogger(app.get(Logger));
  app.use(requestIdMiddleware);
  if (env.TRUST_PROXY) app.set('trust proxy', /^\d+$/.test(env.TRUST_PROXY) ? Number(env.TRUST_PROXY) : env.TRUST_PROXY);
  // helmet's defaults, except upgrade-insecure-requests: over plain http (local runs, a TLS-terminating
  // proxy) it would send the /docs page's own scripts to https and break the UI.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  // Our own JSON parser (Nest's is off: see createApi) so its failures get our error shape.
  app.use(json({ limit: env.BODY_LIMIT }));
  app.use(bodyParserErrorHandler);
  app.useGlobalPipes(new RejectUnsafeInputPipe(), buildValidationPipe());
  app.useGlobalFilters(
    new GlobalExceptionFilter({ retryAfterSeconds: env.DEPENDENCY_RETRY_AFTER_S, postgresPort: env.DB_PORT, redisPort: env.REDIS_PORT }),
  );
  app.enableShutdownHooks();
  const config = new DocumentBuilder()
    .setTitle('PilotLab API')
    .setDescription('Sales-model pilots: territories, pilots, assignment, opportunity ingestion, reports')
    .setVersion('0.1.0')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'api-key')
    .addSecurityRequirements('api-key')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}

/** Creates (not listening) the configured HTTP app. */
export async function createApi(overrides: ConfigOverrides = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(overrides), { bufferLogs: true, bodyParser: false });
  configureApp(app);
  return app;
}

/**
 * Sets this process's nice value to `nice` (WORKER_NICE, -20..19; 0 leaves it unchanged) with
 * `os.setPriority`, so on cores shared with an API the kernel runs the API's requests first while
 * the worker computes. A refusal (e.g. a negative value without CAP_SYS_NICE) is logged as a
 * warning and the worker runs at its inherited priority.
 */
export function lowerWorkerPriority(nice: number, logger: { log(msg: string): void; warn(msg: string): void }): void {
  if (nice === 0) return;
  try {
    setPriority(0, nice);
    logger.log(`worker priority set to nice ${getPriority(0)} (WORKER_NICE)`);
  } catch (err) {
    logger.warn(`WORKER_NICE=${nice} refused (${(err as Error).message}); the worker keeps nice ${getPriority(0)}`);
  }
}

/** Creates and initialises a worker context (consumers start on init). */
export async function createWorker(overrides: ConfigOverrides = {}): Promise<INestApplicationContext> {
  const ctx = await NestFactory.createApplicationContext(WorkerModule.forRoot(overrides), { bufferLogs: true });
  ctx.useLogger(ctx.get(Logger));
  lowerWorkerPriority(ctx.get(EnvironmentVariables).WORKER_NICE, ctx.get(Logger));
  ctx.enableShutdownHooks();
  await ctx.init();
  return ctx;
}

export type { INestApplication };
