import { isIsoDate, utcDateOf } from '../../common/utils/dates';
import { ParseResult } from './amount';

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses a calendar-day cell: `YYYY-MM-DD` as is, or an ISO instant with a zone
 * (`2024-03-31T23:30:00Z`, `…+02:00`) reduced to its UTC day (windows are UTC days). Empty → null.
 * A time without a zone is ambiguous and rejected; so are impossible days (2024-02-30) and other
 * formats (10/20/2016). Never goes through a local-time `Date` (pitfalls P11, P12).
 */
export function parseDay(raw: unknown, field: string): ParseResult<string | null> {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw !== 'string') return { ok: false, reason: `${field} must be a string YYYY-MM-DD` };
  const s = raw.trim();
  if (s === '') return { ok: true, value: null };
  if (isIsoDate(s)) return { ok: true, value: s };
  const instant = parseInstant(s, field);
  if (instant.ok && instant.value) return { ok: true, value: utcDateOf(instant.value) };
  return { ok: false, reason: `${field} '${raw}' is not a date YYYY-MM-DD (or an ISO timestamp with a zone)` };
}

/**
 * Parses an instant cell: an ISO 8601 timestamp WITH a zone (Z or ±hh:mm). Empty → null.
 * Rejects timestamps without a zone (their meaning depends on the server's TZ: pitfall P11).
 */
export function parseInstant(raw: unknown, field: string): ParseResult<Date | null> {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw !== 'string') return { ok: false, reason: `${field} must be an ISO timestamp string` };
  const s = raw.trim();
  if (s === '') return { ok: true, value: null };
  const m = ISO_INSTANT.exec(s);
  if (!m || !isIsoDate(m[1]) || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59) {
    return { ok: false, reason: `${field} '${raw}' is not an ISO timestamp with a zone (e.g. 2024-03-31T23:30:00Z)` };
  }
  const d = new Date(s.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return { ok: false, reason: `${field} '${raw}' is not a valid instant` };
  return { ok: true, value: d };
}
