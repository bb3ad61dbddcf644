import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppException } from './app.exception';
import { classifyDependencyFailure, Dependency, DependencyEndpoints } from './dependency-failure';
import { ErrorCode } from './error-codes';

/** The one error body of the API; `details` is null when there is nothing more to say. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode | string;
  message: string;
  details: unknown;
  /** the request id (same as the x-request-id response header) */
  request_id?: string;
}

const HTTP_CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** How the filter answers an outage of PostgreSQL or Redis. */
export interface DependencyFailureOptions extends DependencyEndpoints {
  /** Seconds sent in `Retry-After` with 503 DEPENDENCY_UNAVAILABLE (default 5). */
  retryAfterSeconds?: number;
}

const DEPENDENCY_NAMES: Record<Dependency, string> = { postgres: 'PostgreSQL', redis: 'Redis' };

/**
 * Renders every error as {@link ErrorBody}: domain errors by their code, Nest HTTP errors by status
 * (body-parser failures are rendered earlier, by body-parser-errors.ts), an unreachable PostgreSQL
 * or Redis ({@link classifyDependencyFailure}) as 503 DEPENDENCY_UNAVAILABLE with `Retry-After` and
 * `details.dependency`, logged as one warning without a stack, and anything else unexpected as a
 * 500 with the request id, logged with its stack (immich `global-exception.filter.ts`).
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('GlobalExceptionFilter');
  private readonly retryAfterSeconds: number;

  constructor(private readonly dependencies: DependencyFailureOptions = {}) {
    this.retryAfterSeconds = dependencies.retryAfterSeconds ?? 5;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const body = this.toBody(exception, req);
    if (body.code === 'DEPENDENCY_UNAVAILABLE') {
      const cause = exception instanceof Error ? exception.message : String(exception);
      this.logger.warn({ request_id: body.request_id, details: body.details, cause }, body.message);
    } else if (body.statusCode >= 500) {
      this.logger.error({ err: exception, request_id: body.request_id }, body.message);
    }
    if (res.headersSent) return;
    if (body.code === 'DEPENDENCY_UNAVAILABLE' && !res.getHeader('Retry-After')) {
      const seconds = (body.details as { retry_after_seconds?: unknown } | null)?.retry_after_seconds;
      res.setHeader('Retry-After', String(typeof seconds === 'number' ? seconds : this.retryAfterSeconds));
    }
    res.status(body.statusCode).json(body);
  }

  /** 503 DEPENDENCY_UNAVAILABLE naming the dependency that is down. */
  private dependencyBody(dependency: Dependency, requestId: string | undefined): ErrorBody {
    const body: ErrorBody = {
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      code: 'DEPENDENCY_UNAVAILABLE',
      message: `${DEPENDENCY_NAMES[dependency]} is unreachable; retry in ${this.retryAfterSeconds} s`,
      details: { dependency, retry_after_seconds: this.retryAfterSeconds },
    };
    return requestId === undefined ? body : { ...body, request_id: requestId };
  }

  private toBody(exception: unknown, req: Request & { id?: string }): ErrorBody {
    const requestId = req?.id !== undefined ? String(req.id) : undefined;
    const withId = (b: ErrorBody): ErrorBody => (requestId === undefined ? b : { ...b, request_id: requestId });
    if (exception instanceof AppException) {
      return withId({ statusCode: exception.statusCode, code: exception.code, message: exception.message, details: exception.details ?? null });
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'object' && response && 'code' in response) {
        return withId({ statusCode: status, ...(response as Omit<ErrorBody, 'statusCode' | 'details'>), details: (response as { details?: unknown }).details ?? null });
      }
      const message =
        typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? exception.message);
      return withId({ statusCode: status, code: HTTP_CODE_BY_STATUS[status] ?? `HTTP_${status}`, message, details: null });
    }
    const dependency = classifyDependencyFailure(exception, this.dependencies);
    if (dependency) return this.dependencyBody(dependency, requestId);
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      code: 'INTERNAL_ERROR',
      message: 'Unexpected error; quote the request id when reporting it',
      details: null,
      request_id: requestId,
    };
  }
}
