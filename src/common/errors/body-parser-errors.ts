import type { NextFunction, Request, Response } from 'express';
import { ErrorBody } from './global-exception.filter';

/**
 * Express error middleware placed right after the JSON body parser: renders its failures in the
 * API's one error shape (Nest would otherwise turn a malformed body into a generic 400 and a too
 * large one into a 500).
 */
export function bodyParserErrorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
  const e = err as { type?: string; message?: string; limit?: number };
  let body: ErrorBody | null = null;
  if (e?.type === 'entity.parse.failed') {
    body = { statusCode: 400, code: 'MALFORMED_JSON', message: `Malformed JSON body: ${e.message}`, details: null };
  } else if (e?.type === 'entity.too.large') {
    body = {
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: `Request body exceeds the limit of ${e.limit} bytes (BODY_LIMIT); split it into smaller batches or upload CSV`,
      details: { limit_bytes: e.limit ?? null },
    };
  } else if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    body = { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: e.message ?? 'Unsupported body encoding', details: null };
  }
  if (!body) return next(err);
  const requestId = (req as Request & { id?: unknown }).id;
  if (requestId !== undefined) body.request_id = String(requestId);
  res.status(body.statusCode).json(body);
}
