import { registerDecorator, ValidationOptions } from 'class-validator';

/**
 * An object whose keys are identifiers and whose values are finite JSON numbers (covariates).
 * Strings like "12" are rejected, not coerced.
 */
export function IsNumericRecord(options?: ValidationOptions) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isNumericRecord',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must map names ([A-Za-z_][A-Za-z0-9_]*) to finite numbers`, ...options },
      validator: {
        validate(value: unknown) {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          return Object.entries(value as Record<string, unknown>).every(
            ([k, v]) => /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) && typeof v === 'number' && Number.isFinite(v),
          );
        },
      },
    });
  };
}

/** A JSON string or a finite number (amounts arrive as "$1,200.00" from CSV exports or 1200 from APIs). */
export function IsStringOrNumber(options?: ValidationOptions) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isStringOrNumber',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be a string or a finite number`, ...options },
      validator: {
        validate(value: unknown) {
          return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string';
        },
      },
    });
  };
}
