import { drawDesign, DesignType, randomizationDesignFromStored } from '../stats/design/designs';
import { createPrng } from '../stats/design/prng';
import { recommendedPrimaryMethod } from '../stats/primary-method';
import { randomizationTest } from '../stats/randomization-inference';
import { decidingTest, PLANNER_RI_DRAWS } from './planner-deciding-test';

/** A drawn pilot of n territories (skewed sizes, y proportional to x with noise) under `type`. */
function pilotOf(type: DesignType, n: number, seed: number, withX = true) {
  const rng = createPrng(seed);
  const x = Array.from({ length: n }, () => 1000 * Math.exp(2 * rng.nextDouble()));
  const y = x.map((v) => v * (0.7 + 0.6 * rng.nextDouble()));
  const arms = [
    { key: 'control', role: 'control' as const, count: n / 2 },
    { key: 'treatment', role: 'treatment' as const, count: n / 2 },
  ];
  const units = x.map((v, i) => ({ code: `T${String(i).padStart(3, '0')}`, stratum: i % 2 ? 'north' : 'south', covariates: { pre: v } }));
  const rerandomization = type === 'rerandomization' ? { covariates: ['pre'], acceptance_probability: 0.1, threshold_rule: 'chi_square' as const } : null;
  const d = drawDesign(units, { type, arms, seed, pair_on: type === 'matched_pairs' ? 'pre' : null, rerandomization });
  const design = randomizationDesignFromStored(
    { type, arms, rerandomization, rerandomization_threshold: d.rerandomization?.threshold ?? null },
    units.map((u) => ({ code: u.code, arm: d.arms[u.code], stratum: d.unit_strata[u.code], covariates: u.covariates })),
  );
  const treated = units.map((u) => (d.arms[u.code] === 'treatment' ? 1 : 0) as 0 | 1);
  return { y, x: withX ? x : x.map(() => null), treated, design };
}

describe('decidingTest: the report’s deciding randomization test, at any planted lift', () => {
  const designs: DesignType[] = ['complete', 'stratified', 'matched_pairs', 'rerandomization'];
  it.each(designs)('%s: p(lift) equals randomizationTest on the lifted values with the same draws (Monte Carlo and exact)', (type) => {
    for (const [n, maxExact] of [
      [20, 1],
      [8, 100_000],
    ] as const) {
      const p = pilotOf(type, n, 40 + n);
      const t = decidingTest(type, p, 123, { draws: PLANNER_RI_DRAWS, maxExact });
      // the method the report would decide with for this design and size (calibration flags applied)
      expect(t.method).toBe(recommendedPrimaryMethod(type, n, true).key);
      const lifts = [0, 0.03, 0.1, 0.25, 1, 10];
      const ps = lifts.map((lift) => t.pAt(lift));
      lifts.forEach((lift, k) => {
        const values = p.y.map((v, j) => (p.treated[j] ? v * (1 + lift) : v));
        const r = randomizationTest({
          values,
          arms: p.treated.map((q) => (q ? 'treatment' : 'control')),
          treatmentArm: 'treatment',
          controlArm: 'control',
          design: p.design,
          statistic: t.statistic!,
          ...(t.statistic === 'lin_adjusted' ? { covariate: p.x } : {}),
          draws: PLANNER_RI_DRAWS,
          maxExact,
          seed: 123,
        });
        expect(ps[k]).toBeCloseTo(r.p_two_sided as number, 12);
      });
      // the lift moves the p-value (the planted lift is in the statistic): a moderate lift can move a
      // difference that was negative towards 0, so the check is on a lift (×11) that dominates the spread
      expect(ps[5]).toBeLessThan(ps[0] as number);
    }
  });

  it('without a usable pre-period KPI the unadjusted randomization test decides', () => {
    const p = pilotOf('complete', 12, 5, false);
    const t = decidingTest('complete', p, 1);
    expect(t.method).toBe('randomization_inference');
    expect(t.statistic).toBe('diff_in_means');
  });

  it('above 200 territories the method the report would pick decides (Lin HC2 is not offered there: the calibration grid flags it)', () => {
    const p = pilotOf('complete', 202, 6);
    const t = decidingTest('complete', p, 1);
    const expected = recommendedPrimaryMethod('complete', 202, true).key;
    expect(expected).not.toBe('lin_regression_hc2');
    expect(t.method).toBe(expected);
    expect(t.pAt(2)).toBeLessThan(t.pAt(0) as number);
  });
});
