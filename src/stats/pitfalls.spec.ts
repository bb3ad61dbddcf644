/**
 * Pitfalls P1, P2, P3, P5, P7, P8 of /work/shared/cases/pitfalls.md, with exactly its inputs and
 * right answers (scipy 1.17 / statsmodels 0.15 or by hand). pitfalls.md quotes 6 significant digits,
 * so those comparisons use a relative tolerance of 5e-6 (half a unit in the 6th digit).
 */
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { relativeLift } from './relative-lift';
import { randomizationTest } from './randomization-inference';
import { chiSquareGoodnessOfFit } from './srm';
import { welchTTest, zTestPValue } from './welch';
import { sampleSd } from './descriptive';

const SIX_DIGITS = 5e-6;
function expectRel(actual: number | null, expected: number, rel = SIX_DIGITS): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

describe('P1 upper tails are computed directly, never 1 - cdf', () => {
  it('P1 6000 vs 4000 opportunities at 50/50: chi2 = 400, p = 5.50725e-89 (not 0)', () => {
    const r = chiSquareGoodnessOfFit([6000, 4000], [0.5, 0.5]);
    expect(r.chi2).toBe(400);
    expectRel(r.p_value, 5.50725e-89);
    expect(r.p_value as number).toBeGreaterThan(0);
  });

  it('P1 5200 vs 4800 at 50/50: chi2 = 16, p = 6.33425e-05', () => {
    const r = chiSquareGoodnessOfFit([5200, 4800], [0.5, 0.5]);
    expect(r.chi2).toBe(16);
    expectRel(r.p_value, 6.33425e-5);
  });
});

describe('P2 one-sided tests respect the sign', () => {
  it('P2 pre-registered "treatment raises win rate", z = -2.00: one-sided p = 0.977250 (not significant)', () => {
    expectRel(zTestPValue(-2, 'greater'), 0.97725);
  });

  it('P2 z = +2.00: one-sided p = 0.0227501', () => {
    expectRel(zTestPValue(2, 'greater'), 0.0227501);
  });
});

describe('P3 sample variance (n - 1), not population variance', () => {
  const treatment = [1200, 950, 1800, 400, 2600, 700];
  const control = [300, 450, 500, 380, 420, 610, 550, 290];

  it('P3 Welch: t = 2.53001, df = 5.15041 (not rounded), p = 0.0511378, 95% CI [-6.01187, 1681.01]', () => {
    const r = welchTTest(treatment, control);
    expect(r.status).toBe('ok');
    expectRel(r.t, 2.53001);
    expectRel(r.df, 5.15041);
    expect(Number.isInteger(r.df)).toBe(false);
    expectRel(r.p_two_sided, 0.0511378);
    expectRel(r.ci_low, -6.01187);
    expectRel(r.ci_high, 1681.01);
  });

  it('P3 the population-variance t (2.77046) is NOT what we report, and sampleSd divides by n - 1', () => {
    const r = welchTTest(treatment, control);
    expect(Math.abs((r.t as number) - 2.77046)).toBeGreaterThan(0.1);
    // [1, 2, 3, 4]: sample SD sqrt(5/3) = 1.2909944487358056; the population SD would be sqrt(1.25) = 1.118
    expect(sampleSd([1, 2, 3, 4])).toBeCloseTo(1.2909944487358056, 15);
  });
});

describe('P5 degenerate arms give an explicit status, never NaN/Infinity', () => {
  it('P5 (a) control [0,0,0,0], treatment [0,0,0,0]: zero_variance, null p', () => {
    const r = welchTTest([0, 0, 0, 0], [0, 0, 0, 0]);
    expect(r.status).toBe('zero_variance');
    expect(r.p_two_sided).toBeNull();
    expect(r.diff).toBe(0);
    assertNoNonFinite(r);
    const lift = relativeLift([0, 0, 0, 0], [0, 0, 0, 0]);
    expect(lift.status).toBe('baseline_not_positive');
    assertNoNonFinite(lift);
  });

  it('P5 (b) control [3,5,4,6], treatment [7]: insufficient_data', () => {
    const r = welchTTest([7], [3, 5, 4, 6]);
    expect(r.status).toBe('insufficient_data');
    expect(r.mean_t).toBe(7);
    expect(r.mean_c).toBe(4.5);
    expect(r.t).toBeNull();
    assertNoNonFinite(r);
    const lift = relativeLift([7], [3, 5, 4, 6]);
    expect(lift.status).toBe('insufficient_data');
    assertNoNonFinite(lift);
  });

  it('P5 (c) control [2,2,2], treatment [5,5,5]: zero_variance, never p = 0 / significant', () => {
    const r = welchTTest([5, 5, 5], [2, 2, 2]);
    expect(r.status).toBe('zero_variance');
    expect(r.diff).toBe(3);
    expect(r.p_two_sided).toBeNull();
    expect(r.ci_low).toBeNull();
    assertNoNonFinite(r);
    // randomization inference on the same data: 3 vs 3 can never reach p < 0.05
    const ri = randomizationTest({ values: [5, 5, 5, 2, 2, 2], arms: ['t', 't', 't', 'c', 'c', 'c'], treatmentArm: 't', controlArm: 'c' });
    expect(ri.p_two_sided).toBeCloseTo(0.1, 15);
    assertNoNonFinite(ri);
  });
});

describe('P7 the CI and the p-value agree', () => {
  const control = [10, 12, 9, 11, 13];
  const treatment = [14, 15, 13, 16, 12];

  it('P7 difference 3, t = 3, df = 8, p = 0.0170717, 95% CI [0.693996, 5.30600], 90% CI [1.14045, 4.85955]', () => {
    const r95 = welchTTest(treatment, control);
    expectRel(r95.diff, 3, 1e-12);
    expectRel(r95.t, 3, 1e-12);
    expectRel(r95.df, 8, 1e-12);
    expectRel(r95.p_two_sided, 0.0170717);
    expectRel(r95.ci_low, 0.693996);
    expectRel(r95.ci_high, 5.306);
    const r90 = welchTTest(treatment, control, { alpha: 0.1 });
    expectRel(r90.ci_low, 1.14045);
    expectRel(r90.ci_high, 4.85955);
  });

  it.each([0.05, 0.1, 0.01, 0.02])('P7 at alpha %p: lower <= estimate <= upper and p < alpha exactly when the CI excludes 0', (alpha) => {
    const r = welchTTest(treatment, control, { alpha });
    const lo = r.ci_low as number;
    const hi = r.ci_high as number;
    expect(lo).toBeLessThanOrEqual(r.diff as number);
    expect(r.diff as number).toBeLessThanOrEqual(hi);
    expect((r.p_two_sided as number) < alpha).toBe(lo > 0 || hi < 0);
  });
});

describe('P8 a permutation p-value is never 0', () => {
  it('P8 Monte Carlo with B = 999 and none as extreme: p = 0.001', () => {
    const values = [...Array.from({ length: 15 }, (_, i) => 500 + i), ...Array.from({ length: 15 }, (_, i) => i)];
    const arms = values.map((_, i) => (i < 15 ? 't' : 'c'));
    const r = randomizationTest({ values, arms, treatmentArm: 't', controlArm: 'c', maxExact: 10, draws: 999, seed: 3 });
    expect(r.method).toBe('monte_carlo');
    expect(r.count_abs_ge).toBe(0);
    expect(r.p_two_sided).toBe(0.001);
  });

  it('P8 exact 3 vs 3: 20 assignments, smallest two-sided p = 0.1, so never significant at 0.05', () => {
    const r = randomizationTest({ values: [30, 31, 32, 1, 2, 3], arms: ['t', 't', 't', 'c', 'c', 'c'], treatmentArm: 't', controlArm: 'c' });
    expect(r.method).toBe('exact');
    expect(r.n_assignments).toBe(20);
    expect(r.min_attainable_p).toBeCloseTo(0.1, 15);
    expect(r.p_two_sided).toBeCloseTo(0.1, 15);
    expect(r.p_two_sided as number).toBeGreaterThan(0.05);
  });
});
