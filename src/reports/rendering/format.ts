/**
 * Formatting for the HTML report: HTML escaping and one number format (the demo's table uses the
 * same rules). Pure functions, no I/O.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function esc(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** A finite number, or null (guards every value read from a stored report, whose shape may vary). */
export function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * A KPI value in its unit: thousands separators; 0 decimals from 100 up, 2 from 1 up, else 3;
 * a fraction 0..1 as a percentage with one decimal. `—` for a missing value.
 */
export function fmtValue(x: unknown, unit = '', scale?: number): string {
  const v = num(x);
  if (v === null) return '—';
  if (unit === 'fraction 0..1') return `${(100 * v).toFixed(1)}%`;
  // `scale`: the magnitude that picks the decimals, so both ends of a range get the same number of them
  const a = scale ?? Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A difference in the KPI's unit; a fraction's difference in percentage points (pp). */
export function fmtDifference(x: unknown, unit = '', scale?: number): string {
  const v = num(x);
  if (v === null) return '—';
  if (unit === 'fraction 0..1') return `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(1)} pp`;
  return `${v >= 0 ? '+' : '−'}${fmtValue(Math.abs(v), unit, scale)}`;
}

/** A CI `lo to hi` of differences, both ends with the decimals of the larger one. */
export function fmtDifferenceRange(lo: unknown, hi: unknown, unit = ''): string {
  const a = num(lo);
  const b = num(hi);
  if (a === null || b === null) return '—';
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return `${fmtDifference(a, unit, scale)} to ${fmtDifference(b, unit, scale)}`;
}

/** A relative change (fraction) as a signed percentage with one decimal, e.g. `+4.2%`. */
export function fmtPct(x: unknown, digits = 1): string {
  const v = num(x);
  if (v === null) return '—';
  return `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(digits)}%`;
}

/** A p-value with 4 decimals, `<0.0001` below that. */
export function fmtP(x: unknown): string {
  const v = num(x);
  if (v === null) return '—';
  return v < 1e-4 ? '<0.0001' : v.toFixed(4);
}

/** An amount of money with thousands separators and no decimals, signed when `signed`. */
export function fmtMoney(x: unknown, signed = false): string {
  const v = num(x);
  if (v === null) return '—';
  const body = Math.round(Math.abs(v)).toLocaleString('en-US');
  return `${v < 0 ? '−' : signed ? '+' : ''}${body}`;
}

/** Unit suffix for a KPI label: `(per day)`, `(%)`, `(days)`, or nothing for counts and currency. */
export function unitLabel(unit: string): string {
  switch (unit) {
    case 'currency per day':
      return ' (per day)';
    case 'fraction 0..1':
      return ' (%)';
    case 'days':
      return ' (days)';
    default:
      return '';
  }
}
