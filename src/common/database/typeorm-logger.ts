import { Logger as NestLogger } from '@nestjs/common';
import { Logger as TypeOrmLoggerInterface } from 'typeorm';

/** The part of a Nest logger this adapter writes to (a `Logger`, or a test double). */
export interface QueryLogSink {
  debug(message: string): void;
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Routes TypeORM's messages through the application's logger (pino via nestjs-pino) instead of
 * TypeORM's console logger, whose multi-line "query failed" blocks read like test failures.
 *
 * A failed query is logged at `debug`, as one line with its SQLSTATE, message and the first
 * statement line, never its parameters (they may hold customer data): the error itself propagates to
 * the caller, which either expects it (unique keys, the append-only audit trigger) or lets it reach
 * the exception filter or the worker, which log it at `error`. So nothing is hidden at the default
 * level that matters, and an expected error prints nothing at `info` or above.
 *
 * Slow queries are a `warn`; TypeORM's own `warn` messages stay `warn`; migration and schema
 * messages are `log`. Ordinary queries are not logged. `level` is the configured `LOG_LEVEL` (pino
 * names): it is applied here too, because scripts and test setup use a DataSource without a Nest app,
 * where Nest's fallback console logger would print every level.
 */
export class TypeOrmLogger implements TypeOrmLoggerInterface {
  private readonly threshold: number;

  constructor(
    level = 'info',
    private readonly sink: QueryLogSink = new NestLogger('TypeORM'),
  ) {
    this.threshold = LEVELS[level] ?? LEVELS.info;
  }

  logQuery(): void {
    // Ordinary queries are not logged (TypeORM's `logging: ['error']` had the same effect).
  }

  logQueryError(error: string | Error, query: string): void {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'unknown';
    const message = typeof error === 'string' ? error : error.message;
    if (this.threshold <= LEVELS.debug) this.sink.debug(`query failed (SQLSTATE ${code}): ${message}; ${firstLine(query)}`);
  }

  logQuerySlow(time: number, query: string): void {
    if (this.threshold <= LEVELS.warn) this.sink.warn(`slow query (${time} ms): ${firstLine(query)}`);
  }

  logSchemaBuild(message: string): void {
    if (this.threshold <= LEVELS.info) this.sink.log(message);
  }

  logMigration(message: string): void {
    if (this.threshold <= LEVELS.info) this.sink.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (level === 'warn') {
      if (this.threshold <= LEVELS.warn) this.sink.warn(text);
    } else if (this.threshold <= LEVELS.info) this.sink.log(text);
  }
}

/** pino's level numbers (https://getpino.io/#/docs/api?id=levels), by name. */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** The first line of a statement, cut to 200 characters: enough to find it, too little to leak a row. */
function firstLine(query: string): string {
  const line = query.trim().split('\n', 1)[0];
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
