import { ParseUUIDPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

/** A path parameter that must be a UUID; otherwise 400 VALIDATION_FAILED naming the parameter. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    exceptionFactory: () => new AppException('VALIDATION_FAILED', `${name} must be a UUID`, [{ path: name, errors: [`${name} must be a UUID`] }]),
  });
}
