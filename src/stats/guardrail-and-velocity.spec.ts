import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { loadReference } from '../../test/fixtures/reference/compare';
import { completenessCheck } from './completeness';
import { nonInferiorityTest } from './non-inferiority';
import { velocityDecomposition, VelocityTotals } from './velocity-decomposition';
import { welchTTest } from './welch';

const welchRef = loadReference<{ treatment: number[]; control: number[] }>('welch');

describe('nonInferiorityTest', () => {
  it('with margin 0 equals Welch one-sided p of welch.json (scipy ttest_ind alternative=greater/less)', () => {
    let checked = 0;
    for (const c of welchRef.cases) {
      const exp = c.expected.welch ?? c.expected;
      if (exp.p_greater === null || exp.p_greater === undefined) continue;
      const hi = nonInferiorityTest(c.input.treatment, c.input.control, { margin: 0, type: 'absolute', higherIsBetter: true });
      const lo = nonInferiorityTest(c.input.treatment, c.input.control, { margin: 0, type: 'absolute', higherIsBetter: false });
      expect(Math.abs(hi.p_value! - exp.p_greater)).toBeLessThanOrEqual(1e-9 * exp.p_greater + 1e-12);
      expect(Math.abs(lo.p_value! - exp.p_less)).toBeLessThanOrEqual(1e-9 * exp.p_less + 1e-12);
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('a relative margin r tests mean_T > (1 − r)·mean_C: Welch on the scaled control values', () => {
    const t = [98, 102, 95, 101, 99, 97];
    const c = [100, 103, 99, 104, 101, 100];
    const r = nonInferiorityTest(t, c, { margin: 0.05, type: 'relative', higherIsBetter: true });
    const w = welchTTest(t, c.map((v) => 0.95 * v));
    expect(r.p_value!).toBeCloseTo(w.p_greater!, 12);
    expect(r.non_inferior).toBe(true);
    expect(r.lower_bound! > 0).toBe(r.p_value! < 0.05);
    // the same data without a margin is not shown non-inferior… and worse-by-10% is inferior
    expect(nonInferiorityTest(t, c, { margin: 0, type: 'relative', higherIsBetter: true }).non_inferior).toBe(false);
    const bad = nonInferiorityTest(t.map((v) => v * 0.85), c, { margin: 0.05, type: 'relative', higherIsBetter: true });
    expect(bad.non_inferior).toBe(false);
  });

  it('lower-is-better KPIs (cycle length) test the other direction', () => {
    const t = [30, 32, 29, 31, 30];
    const c = [30, 31, 30, 29, 31];
    const r = nonInferiorityTest(t, c, { margin: 5, type: 'absolute', higherIsBetter: false });
    expect(r.non_inferior).toBe(true);
    expect(r.contrast!).toBeCloseTo(5 - 0.2, 12);
  });

  it('degenerate input gives a status, no NaN; bad margins are refused', () => {
    const r = nonInferiorityTest([1], [2, 3], { margin: 0.1, type: 'relative', higherIsBetter: true });
    expect(r.status).toBe('insufficient_data');
    assertNoNonFinite(r);
    expect(nonInferiorityTest([1, 2], [-2, -3], { margin: 0.1, type: 'relative', higherIsBetter: true }).status).toBe('baseline_not_positive');
    expect(() => nonInferiorityTest([1, 2], [2, 3], { margin: -1, type: 'absolute', higherIsBetter: true })).toThrow(RangeError);
    expect(() => nonInferiorityTest([1, 2], [2, 3], { margin: 1, type: 'relative', higherIsBetter: true })).toThrow(RangeError);
  });
});

describe('velocityDecomposition', () => {
  const row = (n: number, c: number, w: number, a: number, d: number): VelocityTotals => ({
    n_opportunities: n,
    n_closed: c,
    n_won: w,
    won_amount_total: a,
    cycle_days_total: d,
  });
  const control = [row(40, 30, 15, 30000, 1500), row(50, 40, 18, 34000, 2100), row(35, 28, 12, 26000, 1300), row(45, 33, 17, 33000, 1800)];
  const treatment = [row(44, 34, 19, 39000, 1550), row(52, 41, 22, 43000, 2000), row(38, 30, 15, 30000, 1350), row(47, 36, 20, 41000, 1700)];

  it('log-lifts of the components add up to the velocity log-lift; values are the pooled ratios', () => {
    const r = velocityDecomposition(treatment, control);
    const v = r.components.find((c) => c.component === 'velocity')!;
    expect(r.sum_of_components!).toBeCloseTo(v.log_lift!, 12);
    const wr = r.components.find((c) => c.component === 'win_rate')!;
    expect(wr.control!).toBeCloseTo((15 + 18 + 12 + 17) / (30 + 40 + 28 + 33), 14);
    const vc = ((40 + 50 + 35 + 45) / 4) * ((30000 + 34000 + 26000 + 33000) / (1500 + 2100 + 1300 + 1800));
    expect(v.control!).toBeCloseTo(vc, 9);
    for (const comp of r.components) {
      expect(comp.ci_low!).toBeLessThanOrEqual(comp.log_lift!);
      expect(comp.log_lift!).toBeLessThanOrEqual(comp.ci_high!);
      expect(comp.p_value! < 0.05).toBe(comp.ci_low! > 0 || comp.ci_high! < 0);
    }
  });

  it('opportunities: the delta-method SE of log mean is s/(√n·mean) per arm', () => {
    const r = velocityDecomposition(treatment, control);
    const o = r.components.find((c) => c.component === 'opportunities')!;
    const v = (xs: number[]) => {
      const m = xs.reduce((s, x) => s + x, 0) / xs.length;
      const s2 = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
      return s2 / (xs.length * m * m);
    };
    expect(o.se!).toBeCloseTo(Math.sqrt(v([44, 52, 38, 47]) + v([40, 50, 35, 45])), 14);
  });

  it('an arm without won deals has no deal size or velocity log-lift, and no NaN', () => {
    const r = velocityDecomposition([row(3, 2, 0, 0, 20), row(4, 3, 0, 0, 30)], control);
    expect(r.components.find((c) => c.component === 'velocity')!.log_lift).toBeNull();
    expect(r.sum_of_components).toBeNull();
    assertNoNonFinite(r);
  });
});

describe('completenessCheck', () => {
  it('uses the designed ratio, flags p < 0.001 (pitfall P1: 6000 vs 4000 at 50/50) and says when data are too few (P6)', () => {
    const big = completenessCheck('opportunities', [6000, 4000], [1, 1]);
    expect(big.state).toBe('mismatch');
    expect(big.p_value!).toBeGreaterThan(0);
    expect(big.p_value!).toBeLessThan(1e-80);
    const p6 = completenessCheck('opportunities', [70, 30], [0.7, 0.3]);
    expect(p6.chi2!).toBeCloseTo(0, 12);
    expect(completenessCheck('opportunities', [700, 300], [0.7, 0.3]).state).toBe('ok');
    const twenty = completenessCheck('territories reporting', [14, 6], [0.7, 0.3]);
    expect(twenty.state).toBe('too_little_data');
    expect(twenty.note).toMatch(/too little data/);
    expect(completenessCheck('x', [0, 0], [1, 1]).state).toBe('too_little_data');
  });
});
