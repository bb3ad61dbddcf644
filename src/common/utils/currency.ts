/**
 * ISO 4217 currency codes, from the runtime's ICU data (`Intl.supportedValuesOf('currency')`,
 * ECMA-402): the well-kept list, not one of our own.
 */
const ISO_4217 = new Set<string>(Intl.supportedValuesOf('currency'));

/** True when `code` is an ISO 4217 alphabetic code (three upper-case letters ICU knows, e.g. USD, EUR). */
export function isIsoCurrency(code: unknown): code is string {
  return typeof code === 'string' && /^[A-Z]{3}$/.test(code) && ISO_4217.has(code);
}

/**
 * Reads a currency cell of an upload: trimmed, case-insensitive (`eur` is EUR).
 * @returns `{ok, value}` with the upper-case code, `value: null` for an empty cell (the default
 *   currency applies), or `{ok: false, reason}` for anything that is not an ISO 4217 code
 */
export function parseCurrencyCell(raw: unknown): { ok: true; value: string | null } | { ok: false; reason: string } {
  if (raw === null || raw === undefined) return { ok: true, value: null };
  const s = String(raw).trim();
  if (s === '') return { ok: true, value: null };
  const code = s.toUpperCase();
  if (!isIsoCurrency(code)) return { ok: false, reason: `currency '${s.slice(0, 40)}' is not an ISO 4217 code (e.g. USD, EUR)` };
  return { ok: true, value: code };
}
