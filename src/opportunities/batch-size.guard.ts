import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { EnvironmentVariables } from '../config/env.validation';

/**
 * Refuses a JSON batch with more than BATCH_MAX_ROWS rows with 413 BATCH_TOO_LARGE. A guard runs
 * before the validation pipe, so an oversized batch is refused without validating every row.
 */
@Injectable()
export class BatchSizeGuard implements CanActivate {
  constructor(private readonly env: EnvironmentVariables) {}

  canActivate(context: ExecutionContext): boolean {
    const body = context.switchToHttp().getRequest<Request>().body as { rows?: unknown } | undefined;
    const n = Array.isArray(body?.rows) ? body.rows.length : 0;
    if (n > this.env.BATCH_MAX_ROWS) {
      throw new AppException(
        'BATCH_TOO_LARGE',
        `A JSON batch holds at most ${this.env.BATCH_MAX_ROWS} rows; got ${n}. Split it, or stream a CSV upload`,
        { max_rows: this.env.BATCH_MAX_ROWS, rows: n },
      );
    }
    return true;
  }
}
