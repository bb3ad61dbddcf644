import { Transform } from 'class-transformer';

/**
 * Parses a query-string boolean strictly: "true"/"false" only (pitfall P17, class-transformer #306:
 * implicit conversion turns "false" and "0" into true). Anything else stays a string and fails
 * `@IsBoolean()` with a 400.
 */
export const StrictBoolean = () =>
  Transform(({ value }) => {
    if (value === true || value === false) return value;
    if (value === 'true') return true;
    if (value === 'false') return false;
    return value;
  });

/** Parses a query-string integer strictly (digits only); anything else fails `@IsInt()`. */
export const StrictInt = () =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value));
