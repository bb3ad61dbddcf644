import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../errors/app.exception';

/** The request header a client names a retry-safe submission with (case-insensitive, as every HTTP header). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * The trimmed value of an `Idempotency-Key` header, or null when the request has none.
 * @throws AppException VALIDATION_FAILED (400) when the key is empty after trimming or longer than 200 characters
 */
export function normaliseIdempotencyKey(key: string | string[] | undefined): string | null {
  if (key === undefined) return null;
  const k = (Array.isArray(key) ? key.join(',') : key).trim();
  if (k === '' || k.length > 200) {
    throw new AppException('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 200 characters', [
      { path: 'headers.idempotency-key', errors: ['must be 1 to 200 characters'] },
    ]);
  }
  return k;
}

/**
 * Route parameter: the request's checked `Idempotency-Key` (string or null), see
 * {@link normaliseIdempotencyKey}. A bad key is answered with a 400 before the handler runs.
 */
export const IdempotencyKey = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | null =>
  normaliseIdempotencyKey(ctx.switchToHttp().getRequest<Request>().headers[IDEMPOTENCY_HEADER]),
);
