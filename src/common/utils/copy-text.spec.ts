import { copyTextValue } from './copy-text';

describe('copyTextValue (PostgreSQL COPY text format)', () => {
  it('writes null as \\N and a plain value as is', () => {
    expect(copyTextValue(null)).toBe('\\N');
    expect(copyTextValue('006A,"Closed Won"; é €')).toBe('006A,"Closed Won"; é €');
    expect(copyTextValue('')).toBe('');
  });

  it('escapes backslash, tab, newline and carriage return, so \\N and \\. stay text', () => {
    expect(copyTextValue('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyTextValue('\\N')).toBe('\\\\N');
    expect(copyTextValue('\\.')).toBe('\\\\.');
    expect(copyTextValue('\r\n\t\t\\\\')).toBe('\\r\\n\\t\\t\\\\\\\\');
  });

  it('refuses a NUL, which PostgreSQL text cannot hold', () => {
    expect(() => copyTextValue('a\u0000b')).toThrow(/NUL/);
  });
});
