import { ErrorCode, ERROR_STATUS } from './error-codes';

/**
 * A domain error: a code from {@link ERROR_STATUS}, a message for people and optional details for
 * programs. The global filter renders it as `{statusCode, code, message, details}`.
 */
export class AppException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppException';
  }

  get statusCode(): number {
    return ERROR_STATUS[this.code];
  }
}
