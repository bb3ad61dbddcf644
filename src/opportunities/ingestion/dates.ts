import { addDays, isIsoDate, utcDateOf } from '../../common/utils/dates';
import { ParseResult } from './amount';

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * The earliest year of an imported CRM date. A CRM opportunity dated before 1900 (`0025-03-04`,
 * `0000-01-01`) is a typo or a placeholder, not a deal: taken as is it would put a deal two
 * thousand years before the pre-period (sales cycles of 730,000 days), and year 0000 is not even a
 * date PostgreSQL stores (it has no year 0). Such a row is rejected with its reason instead.
 */
export const EARLIEST_IMPORT_YEAR = 1900;
/** The last year written with four digits; an instant past it (9999-12-31T23:30:00-02:00) has no `YYYY-MM-DD` day. */
const LATEST_IMPORT_YEAR = 9999;

function yearReason(field: string, raw: unknown, year: number, what: string): string {
  const shown = year < 0 ? `${year}` : String(year).padStart(4, '0');
  return year < EARLIEST_IMPORT_YEAR
    ? `${field} '${raw}' is ${what} before ${EARLIEST_IMPORT_YEAR} (year ${shown}): not a plausible CRM date; check the year`
    : `${field} '${raw}' is ${what} after ${LATEST_IMPORT_YEAR} (year ${shown}): not a plausible CRM date; check the year`;
}

/**
 * Parses a calendar-day cell: `YYYY-MM-DD` as is, or an ISO instant with a zone
 * (`2024-03-31T23:30:00Z`, `…+02:00`) reduced to its UTC day (windows are UTC days). Empty → null.
 * A time without a zone is ambiguous and rejected; so are impossible days (2024-02-30), other
 * formats (10/20/2016) and days before {@link EARLIEST_IMPORT_YEAR} (0025-03-04), each with its
 * reason. Never goes through a local-time `Date` (pitfalls P11, P12), nor a two-digit-year mapping.
 */
export function parseDay(raw: unknown, field: string): ParseResult<string | null> {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw !== 'string') return { ok: false, reason: `${field} must be a string YYYY-MM-DD` };
  const s = raw.trim();
  if (s === '') return { ok: true, value: null };
  if (isIsoDate(s)) {
    // The year is read from the text itself, never through Date.UTC (which maps years 0–99 to 1900–1999).
    const year = Number(s.slice(0, 4));
    return year < EARLIEST_IMPORT_YEAR ? { ok: false, reason: yearReason(field, raw, year, 'a day') } : { ok: true, value: s };
  }
  const instant = zonedInstant(s);
  if (instant instanceof Date) return { ok: true, value: utcDateOf(instant) };
  if (instant !== null) return { ok: false, reason: yearReason(field, raw, instant.year, 'an instant') };
  return { ok: false, reason: `${field} '${raw}' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)` };
}

/**
 * Parses an instant cell: an ISO 8601 timestamp WITH a zone (Z or ±hh:mm). Empty → null.
 * Rejects timestamps without a zone (their meaning depends on the server's TZ: pitfall P11), and
 * instants whose UTC year is before {@link EARLIEST_IMPORT_YEAR} or after 9999, with the reason.
 */
export function parseInstant(raw: unknown, field: string): ParseResult<Date | null> {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw !== 'string') return { ok: false, reason: `${field} must be an ISO timestamp string` };
  const s = raw.trim();
  if (s === '') return { ok: true, value: null };
  const instant = zonedInstant(s);
  if (instant === null) return { ok: false, reason: `${field} '${raw}' is not an ISO timestamp with a zone (e.g. 2024-03-31T23:30:00Z)` };
  if (!(instant instanceof Date)) return { ok: false, reason: yearReason(field, raw, instant.year, 'an instant') };
  return { ok: true, value: instant };
}

/**
 * The instant of a trimmed ISO timestamp with a zone; null when it is not one (no zone, impossible
 * day or time); `{year}` when its UTC year is outside the import range. The range is checked on
 * the UTC instant (what is stored and what the UTC day is taken from): a zone offset can carry
 * 0001-01-01T00:30+01:00 into year 0 or 9999-12-31T23:30-02:00 into year 10000, whose ISO text is
 * no longer YYYY-MM-DD (-000001-12-31…, +010000-01-01…).
 */
function zonedInstant(s: string): Date | { year: number } | null {
  const m = ISO_INSTANT.exec(s);
  if (!m || !isIsoDate(m[1]) || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59) return null;
  const d = new Date(s.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return null;
  const year = d.getUTCFullYear();
  if (year < EARLIEST_IMPORT_YEAR || year > LATEST_IMPORT_YEAR) return { year };
  return d;
}

/**
 * An as-of instant (a report's `as_of`, a design's `pre_period_as_of`): an ISO instant with a
 * zone, or a calendar day `YYYY-MM-DD` meaning "as known at the end of that UTC day" (its last millisecond, 23:59:59.999Z). A zone-less timestamp or an
 * impossible day (2024-02-30) is refused with the reason, like every other date of the API.
 */
export function parseAsOf(raw: unknown, field = 'as_of'): { ok: true; value: Date | null } | { ok: false; reason: string } {
  if (typeof raw === 'string' && /^\s*\d{4}-\d{2}-\d{2}\s*$/.test(raw)) {
    const day = parseDay(raw, field);
    if (!day.ok || !day.value) return day.ok ? { ok: true, value: null } : day;
    return { ok: true, value: new Date(Date.parse(`${addDays(day.value, 1)}T00:00:00Z`) - 1) };
  }
  return parseInstant(raw, field);
}
