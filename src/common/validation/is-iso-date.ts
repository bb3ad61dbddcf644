import { registerDecorator, ValidationOptions } from 'class-validator';
import { isIsoDate } from '../utils/dates';

/**
 * A real calendar day written `YYYY-MM-DD` (2024-02-30 fails), in the years 0001–9999: year 0000
 * fails too, since PostgreSQL has no year 0 (it answered a 500).
 */
export function IsIsoDate(options?: ValidationOptions) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isIsoDate',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be a calendar date YYYY-MM-DD`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && isIsoDate(value) && !value.startsWith('0000') },
    });
  };
}
