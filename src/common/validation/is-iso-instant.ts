import { registerDecorator, ValidationOptions } from 'class-validator';
import { isIsoDate } from '../utils/dates';

const INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/;

/**
 * True for a real calendar day `YYYY-MM-DD` (taken as 00:00 UTC) or an ISO 8601 timestamp WITH a
 * zone (`Z` or `±hh:mm`) on a real day with hours ≤ 23, minutes and seconds ≤ 59. A timestamp
 * without a zone is rejected: its meaning would depend on the database session's time zone
 * (pitfall P11). 2024-02-30 is rejected, as everywhere else (pitfalls P16–P19, house style). The
 * UTC instant must fall in the years 0001–9999: PostgreSQL has no year 0, and a zone offset that
 * carries 0001-01-01T00:30+01:00 or 9999-12-31T23:30-02:00 out of them gives ISO text with a
 * negative or five-digit year that PostgreSQL refuses (this was a 500).
 */
export function isIsoDateOrInstant(value: string): boolean {
  if (isIsoDate(value)) return value.slice(0, 4) !== '0000';
  const m = INSTANT.exec(value);
  if (!m || !isIsoDate(m[1])) return false;
  if (Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59) return false;
  if (m[6] !== undefined && (Number(m[6]) > 23 || Number(m[7]) > 59)) return false;
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) return false;
  const year = instant.getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/**
 * The instant a value accepted by {@link isIsoDateOrInstant} denotes, as an ISO string with `Z`
 * (a bare day is its 00:00 UTC). @throws Error for a value the check rejects.
 */
export function toUtcInstant(value: string): string {
  if (!isIsoDateOrInstant(value)) throw new Error(`not a date or an instant with a zone: ${value}`);
  return new Date(isIsoDate(value) ? `${value}T00:00:00Z` : value).toISOString();
}

/** class-validator decorator for {@link isIsoDateOrInstant}. */
export function IsIsoDateOrInstant(options?: ValidationOptions) {
  return function (object: object, propertyName: string) {
    registerDecorator({
      name: 'isIsoDateOrInstant',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be a calendar date YYYY-MM-DD or an ISO timestamp with a zone (e.g. 2024-03-31T23:30:00Z)`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && isIsoDateOrInstant(value) },
    });
  };
}
