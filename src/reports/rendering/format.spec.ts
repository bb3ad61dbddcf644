import { esc, fmtDifferenceRange, fmtMoney, fmtP, fmtPct, fmtValue } from './format';

describe('report number formats', () => {
  it('gives both ends of a range the decimals of the larger end', () => {
    expect(fmtDifferenceRange(-13116.2, 14.48)).toBe('−13,116 to +14');
    expect(fmtDifferenceRange(-0.5, 2.25)).toBe('−0.50 to +2.25');
    expect(fmtDifferenceRange(-0.13, 0.457, 'fraction 0..1')).toBe('−13.0 pp to +45.7 pp');
    expect(fmtDifferenceRange(null, 1)).toBe('—');
  });
  it('formats values, percentages, p-values and money with a true minus sign', () => {
    expect(fmtValue(1234.5)).toBe('1,235');
    expect(fmtValue(0.5791, 'fraction 0..1')).toBe('57.9%');
    expect(fmtPct(-0.619)).toBe('−61.9%');
    expect(fmtP(0.00001)).toBe('<0.0001');
    expect(fmtP(0.165)).toBe('0.1650');
    expect(fmtMoney(-35023.4, true)).toBe('−35,023');
    expect(fmtMoney(7474.2, true)).toBe('+7,474');
    expect(fmtValue(Number.NaN)).toBe('—');
  });
  it('escapes HTML', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
