import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException } from '../errors/app.exception';

/** One failed field: its path from the body root (`rows.3.amount`) and what it broke. */
export interface FieldError {
  path: string;
  errors: string[];
}

/** Flattens class-validator's nested errors into dotted paths (arrays by index). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) out.push({ path, errors: Object.values(e.constraints) });
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, path));
  }
  return out;
}

/**
 * The global pipe: whitelist + forbidNonWhitelisted (unknown fields are errors), transform, and
 * NO implicit conversion (pitfall P17: "false" must never become true); query booleans go through
 * an explicit parser. Errors become VALIDATION_FAILED with every bad field by path.
 */
export function buildValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const details = flattenValidationErrors(errors);
      return new AppException(
        'VALIDATION_FAILED',
        `Request validation failed: ${details.map((d) => d.path).join(', ')}`,
        details,
      );
    },
  });
}
