import { ValueTransformer } from 'typeorm';

/**
 * Parses a PostgreSQL `numeric`/`bigint` text value into a JS number, keeping `null` as `null`.
 * @throws Error when the database hands back something that is not a finite decimal.
 */
export function parseDecimal(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new Error(`Not a finite decimal from the database: ${String(value)}`);
  return n;
}

/** Same as {@link parseDecimal} for NOT NULL columns and aggregates (COUNT, SUM with COALESCE). */
export function parseRequiredDecimal(value: string | number | null | undefined): number {
  const n = parseDecimal(value);
  if (n === null) throw new Error('Expected a number from the database, got null');
  return n;
}

/**
 * TypeORM transformer for `numeric(p,s)` money columns (pitfall P9: a `number` property without an
 * explicit transformer reads 1200.75 back as 1200 in some drivers, or as the string "1200.75").
 * Writes the value as a decimal string so PostgreSQL does the exact conversion.
 */
export const decimalTransformer: ValueTransformer = {
  to: (value: number | string | null | undefined) => (value === null || value === undefined ? value : String(value)),
  from: (value: string | null) => parseDecimal(value),
};

/** TypeORM transformer for `bigint` columns holding values below 2^53 (sequence numbers, seeds). */
export const bigintTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => (value === null || value === undefined ? value : String(value)),
  from: (value: string | null) => {
    const n = parseDecimal(value);
    if (n !== null && !Number.isSafeInteger(n)) throw new Error(`bigint beyond 2^53: ${value}`);
    return n;
  },
};
