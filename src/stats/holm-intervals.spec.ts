import fc from 'fast-check';
import { holmConsistentLevels } from './holm-intervals';
import { adjustPValues } from './multiple-testing';
import { studentTInv, studentTSf } from './distributions';

describe('holmConsistentLevels', () => {
  it('rejections equal Holm (statsmodels multipletests via adjustPValues, checked against multiple.json)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }), (ps) => {
        const holm = adjustPValues(ps, 'holm');
        const lv = holmConsistentLevels(ps, 0.05);
        lv.forEach((l, i) => expect(l.rejected).toBe(holm[i] < 0.05));
      }),
    );
  });

  it('t intervals at the returned levels exclude 0 exactly when Holm rejects', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ est: fc.double({ min: -5, max: 5, noNaN: true }), se: fc.double({ min: 0.2, max: 3, noNaN: true }), df: fc.integer({ min: 3, max: 40 }) }), { minLength: 1, maxLength: 6 }),
        (rows) => {
          const ps = rows.map((r) => 2 * studentTSf(Math.abs(r.est / r.se), r.df));
          const lv = holmConsistentLevels(ps, 0.05);
          rows.forEach((r, i) => {
            const q = studentTInv(1 - lv[i].interval_alpha / 2, r.df);
            const excludes = r.est - q * r.se > 0 || r.est + q * r.se < 0;
            expect(excludes).toBe(lv[i].rejected);
          });
        },
      ),
    );
  });

  it('worked case: p = [0.01, 0.04, 0.03, 0.005], α = 0.05', () => {
    // ordered 0.005 < 0.0125 ✓, 0.01 < 0.01667 ✓, 0.03 ≥ 0.025 ✗ → ranks 3, 4 not rejected, at α/2
    const lv = holmConsistentLevels([0.01, 0.04, 0.03, 0.005], 0.05);
    expect(lv.map((l) => l.rejected)).toEqual([true, false, false, true]);
    expect(lv.map((l) => l.interval_alpha)).toEqual([0.05 / 3, 0.025, 0.025, 0.0125]);
    expect(() => holmConsistentLevels([1.2], 0.05)).toThrow(RangeError);
  });
});
