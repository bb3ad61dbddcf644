/** The result of parsing one cell: a value, or the reason it is not one. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const AMOUNT = /^(\()?\s*([-+])?\s*([$€£])?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(\))?$/;

/**
 * Parses a currency amount exactly (pitfall P19: `parseFloat('1,200.00')` is 1).
 * Accepts thousands separators, a leading $ € or £, a sign, and accounting parentheses for
 * negatives: "$1,000,000.00" → 1000000, "1,200" → 1200, "(1,500.00)" → −1500.
 * "" / null / undefined → null (missing, never 0). Anything else, or more than 2 decimal places
 * (the column is numeric(16,2); rounding would change the number), is rejected with a reason.
 * @returns the amount in currency units as a decimal string ("−1500.00" style) and as a number.
 */
export function parseAmount(raw: unknown): ParseResult<{ text: string; value: number } | null> {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { ok: false, reason: `amount ${raw} is not a finite number` };
    // Exponent notation (1e-7, 1e21) goes through toFixed(2), which ROUNDS: 1e-7 would become
    // "0.00". Only a value that toFixed(2) keeps exactly may pass; the rest is rejected like "1.005".
    if (String(raw).includes('e') && Number(raw.toFixed(2)) !== raw) {
      return { ok: false, reason: `amount ${raw} has more than 2 decimal places` };
    }
    return parseAmount(String(raw).includes('e') ? raw.toFixed(2) : String(raw));
  }
  if (typeof raw !== 'string') return { ok: false, reason: 'amount must be a string or a number' };
  const s = raw.trim();
  if (s === '') return { ok: true, value: null };
  const m = AMOUNT.exec(s);
  if (!m) return { ok: false, reason: `amount '${raw}' is not a number` };
  const [, open, sign, , intPart, frac = '', close] = m;
  if (Boolean(open) !== Boolean(close)) return { ok: false, reason: `amount '${raw}' has unbalanced parentheses` };
  if (open && sign) return { ok: false, reason: `amount '${raw}' has both parentheses and a sign` };
  if (frac.length > 2) return { ok: false, reason: `amount '${raw}' has more than 2 decimal places` };
  const negative = Boolean(open) || sign === '-';
  const digits = intPart.replace(/,/g, '').replace(/^0+(?=\d)/, '');
  if (digits.length > 14) return { ok: false, reason: `amount '${raw}' is too large (at most 14 digits before the point)` };
  const text = `${negative && !/^0+$/.test(digits + frac) ? '-' : ''}${digits}.${frac.padEnd(2, '0')}`;
  return { ok: true, value: { text, value: Number(text) } };
}
