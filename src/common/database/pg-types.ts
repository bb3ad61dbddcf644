import { types } from 'pg';

/** PostgreSQL type OIDs whose default parsing in node-postgres is wrong for us. */
const DATE_OID = 1082;

/**
 * Keeps `date` columns as `YYYY-MM-DD` strings on every query, raw or not. node-postgres would
 * otherwise build a local-midnight `Date`, one day off east or west of UTC (pitfall P12,
 * node-postgres #1844). `numeric`, `bigint` and aggregate results stay strings: they are parsed
 * explicitly where read (see transformers.ts), never silently truncated (pitfalls P9, P10).
 */
export function installPgTypeParsers(): void {
  types.setTypeParser(DATE_OID, (value: string) => value);
}
