/**
 * PostgreSQL `COPY … FROM STDIN` text format (https://www.postgresql.org/docs/current/sql-copy.html,
 * "Text Format"): columns are separated by a tab, rows end with a newline, `\N` is null, and a
 * backslash starts an escape. So a value's backslash, tab, newline and carriage return must be
 * written `\\`, `\t`, `\n`, `\r`; everything else (quotes, commas, `\N` or `\.` once their
 * backslash is escaped, any Unicode) goes as is.
 */
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const SPECIAL = /[\\\t\n\r\0]/;
const SPECIALS = /[\\\t\n\r]/g;

/**
 * One text value as a COPY text-format field (`\N` for null), to be joined with tabs.
 * @throws Error for a value holding a NUL character (U+0000): PostgreSQL text cannot hold one
 *   (no escape stores it: `\0` is refused as an invalid byte, SQLSTATE 22021), so the COPY must
 *   fail as a whole, exactly as a parameterised INSERT of that value would.
 */
export function copyTextValue(v: string | null): string {
  if (v === null) return '\\N';
  if (!SPECIAL.test(v)) return v;
  if (v.includes('\0')) throw new Error('a value with a NUL character (U+0000) cannot be stored in PostgreSQL text');
  return v.replace(SPECIALS, (c) => ESCAPES[c]);
}
