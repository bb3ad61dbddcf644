import fc from 'fast-check';
import { isIsoDate, utcInstantText } from './dates';

/** The former regular-expression implementation, kept as the oracle for the character-check one. */
function isIsoDateByRegex(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = mo === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31;
  return d <= days;
}

describe('isIsoDate', () => {
  it.each([
    ['2024-02-29', true],
    ['2023-02-29', false],
    ['1900-02-29', false],
    ['2000-02-29', true],
    ['2024-04-31', false],
    ['2024-12-31', true],
    ['2024-13-01', false],
    ['2024-00-10', false],
    ['2024-01-00', false],
    ['2024-1-01', false],
    ['2024-01-01T00:00:00Z', false],
    ['2024/01/01', false],
    ['２０２４-01-01', false],
    ['', false],
  ])('%s → %s', (value, expected) => {
    expect(isIsoDate(value)).toBe(expected);
  });

  it('agrees with the regular-expression version on date-like and arbitrary strings', () => {
    const dateLike = fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 33 }))
      .map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    const mutated = fc.tuple(dateLike, fc.nat(9), fc.constantFrom('a', '-', ' ', '/', '0', '٣', 'x')).map(([s, i, c]) => s.slice(0, i) + c + s.slice(i + 1));
    fc.assert(
      fc.property(fc.oneof(dateLike, mutated, fc.string({ maxLength: 12 })), (s) => {
        expect(isIsoDate(s)).toBe(isIsoDateByRegex(s));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('utcInstantText', () => {
  it('equals toISOString for any instant, inside and outside the four-digit years', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        const d = new Date(ms);
        expect(utcInstantText(d)).toBe(d.toISOString());
      }),
      { numRuns: 20_000 },
    );
    for (const text of ['1000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2024-02-29T12:05:09.007Z', '0999-12-31T23:59:59.999Z']) {
      expect(utcInstantText(new Date(text))).toBe(text);
    }
  });

  it('throws for an invalid date, as toISOString does', () => {
    expect(() => utcInstantText(new Date(Number.NaN))).toThrow(RangeError);
  });
});
