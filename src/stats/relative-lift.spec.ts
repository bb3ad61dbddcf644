import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { loadFixture } from '../../test/fixtures/load-fixture';
import calibration from './calibration-results.json';
import { liftInterval, RELATIVE_LIFT_DEFAULT_INTERVAL, relativeLift } from './relative-lift';

const reference = loadReference<{ treatment: number[]; control: number[]; alpha: number }>('relative_lift');

describe('relativeLift against relative_lift.json (closed form, verified by mpmath)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = relativeLift(c.input.treatment, c.input.control, { alpha: c.input.alpha });
    assertNoNonFinite(r);
    expect(r.status).toBe('ok');
    expect(compareToReference(r, c.expected, c.tolerance)).toEqual([]);
  });
});

describe('relativeLift degenerate inputs', () => {
  it('pitfall P4: a negative control mean gives baseline_not_positive and no (sign-flipped) lift', () => {
    // pitfalls.md P4: control [-12,-8,-10,-11,-9], treatment [-6,-4,-5,-7,-3]
    const r = relativeLift([-6, -4, -5, -7, -3], [-12, -8, -10, -11, -9]);
    expect(r.status).toBe('baseline_not_positive');
    expect(r.lift).toBeNull();
    expect(r.ratio).toBeNull();
    expect(r.delta).toEqual({ se: null, ci_low: null, ci_high: null });
    expect(r.fieller.ci_low).toBeNull();
    expect(r.mean_t).toBe(-5);
    expect(r.mean_c).toBe(-10);
    assertNoNonFinite(r);
  });

  it('a zero control mean is not a positive baseline either', () => {
    expect(relativeLift([1, 2, 3], [0, 0, 0]).status).toBe('baseline_not_positive');
  });

  it('both arms constant: zero_variance with null bounds and the reason, never a zero-width interval (issue 13)', () => {
    const r = relativeLift([5, 5, 5], [4, 4, 4]);
    assertNoNonFinite(r);
    expect(r.status).toBe('zero_variance');
    expect(r.lift).toBeCloseTo(0.25, 15);
    expect(r.delta).toEqual({ se: 0, ci_low: null, ci_high: null });
    expect(r.fieller).toMatchObject({ bounded: null, ci_low: null, ci_high: null });
    expect(r.reason).toMatch(/same value within each arm, so the standard error of the lift is 0/);
  });

  it('only one arm constant keeps its (reference) interval: the treatment-all-zero case stays ok', () => {
    expect(relativeLift([0, 0, 0], [600, 700, 650]).status).toBe('ok');
  });

  it('an arm with fewer than 2 territories gives insufficient_data', () => {
    const r = relativeLift([5], [3, 4, 5]);
    expect(r.status).toBe('insufficient_data');
    expect(r.lift).toBeNull();
    expect(r.fieller.bounded).toBeNull();
    assertNoNonFinite(r);
  });
});

// python3 second route (numerical differentiation, root scan): test/fixtures/relative-lift/log_ratio_fieller.py
const secondRoute = loadFixture<{
  tolerance: { rel: number; abs: number };
  alpha: number;
  cases: { name: string; input: { treatment: number[]; control: number[] }; expected: Record<string, unknown> }[];
}>('relative-lift/log_ratio_fieller.json');

describe('relativeLift log-ratio and Fieller intervals against the python3 second route (issue 16)', () => {
  it.each(secondRoute.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = relativeLift(c.input.treatment, c.input.control, { alpha: secondRoute.alpha });
    assertNoNonFinite(r);
    expect(compareToReference(r, c.expected, secondRoute.tolerance)).toEqual([]);
  });

  it('the log-ratio interval is asymmetric around the lift and never reaches −100% on skewed data', () => {
    const c = secondRoute.cases.find((x) => x.name === 'skewed_lognormal_12v12')!;
    const r = relativeLift(c.input.treatment, c.input.control);
    const lr = r.log_ratio;
    expect(lr.ci_low!).toBeGreaterThan(-1);
    // on the log scale it is symmetric: log(1 + high) − log(1 + lift) = log(1 + lift) − log(1 + low)
    expect(Math.log1p(lr.ci_high!) - Math.log1p(r.lift!)).toBeCloseTo(Math.log1p(r.lift!) - Math.log1p(lr.ci_low!), 10);
    expect(lr.ci_high! - r.lift!).toBeGreaterThan(r.lift! - lr.ci_low!);
  });

  it('an unbounded Fieller set is reported by shape with null bounds and a reason, never as a number', () => {
    const c = secondRoute.cases.find((x) => x.name === 'fieller_disjoint')!;
    const r = relativeLift(c.input.treatment, c.input.control);
    expect(r.fieller).toMatchObject({ bounded: false, shape: 'disjoint', ci_low: null, ci_high: null });
    const shown = liftInterval(r, 'fieller');
    expect(shown.ci_low).toBeNull();
    expect(shown.reason).toMatch(/unbounded.*disjoint/);
  });

  it('a treatment arm at 0 has no log-ratio interval, with the reason', () => {
    const r = relativeLift([0, 0, 0, 0], [600, 700, 650, 720]);
    expect(r.log_ratio.defined).toBe(false);
    const shown = liftInterval(r, 'log_ratio');
    expect(shown).toMatchObject({ ci_low: null, ci_high: null });
    expect(shown.reason).toMatch(/positive treatment mean/);
  });
});

describe('the default relative-lift interval is the one that covered in the calibration bench (issue 16)', () => {
  const rows = (calibration.results as { design: string; method: string; coverage: number }[]).filter((x) => x.method === `relative_lift_${RELATIVE_LIFT_DEFAULT_INTERVAL}`);
  const targets = calibration.targets.coverage;

  it('calibration-results.json has a coverage row for the default interval in each of the four designs', () => {
    expect(rows.map((x) => x.design).sort()).toEqual(['complete', 'matched_pairs', 'rerandomization', 'stratified']);
  });

  it.each(['complete', 'stratified', 'matched_pairs', 'rerandomization'])('%s: the default never under-covers the true +10% lift', (design) => {
    const row = rows.find((x) => x.design === design)!;
    expect(row.coverage).toBeGreaterThanOrEqual(targets[0]);
  });

  it.each(['complete', 'stratified', 'matched_pairs'])('%s: coverage of the default within the target range', (design) => {
    const row = rows.find((x) => x.design === design)!;
    expect(row.coverage).toBeLessThanOrEqual(targets[1]);
  });

  it('rerandomization: the default may over-cover only where the unadjusted Welch interval over-covers too', () => {
    const all = calibration.results as { design: string; method: string; coverage: number }[];
    const row = rows.find((x) => x.design === 'rerandomization')!;
    const welch = all.find((x) => x.design === 'rerandomization' && x.method === 'welch')!;
    if (row.coverage > targets[1]) expect(welch.coverage).toBeGreaterThan(targets[1]);
    expect(row.coverage).toBeLessThanOrEqual(Math.max(targets[1], welch.coverage));
  });

  it('no other interval covers better: the others under-cover in some design', () => {
    const all = calibration.results as { design: string; method: string; coverage: number }[];
    for (const other of (['delta', 'fieller', 'log_ratio'] as const).filter((m) => m !== RELATIVE_LIFT_DEFAULT_INTERVAL)) {
      const covs = all.filter((x) => x.method === `relative_lift_${other}`).map((x) => x.coverage);
      expect(Math.min(...covs)).toBeLessThan(targets[0]);
    }
  });

  it('liftInterval without an interval name returns the default interval\'s bounds', () => {
    const r = relativeLift([4673.01, 1866.92, 4719.19, 4337.06], [2984.85, 2464.59, 1726.49, 5501.91]);
    const own = RELATIVE_LIFT_DEFAULT_INTERVAL === 'delta' ? r.delta : RELATIVE_LIFT_DEFAULT_INTERVAL === 'fieller' ? r.fieller : r.log_ratio;
    expect(liftInterval(r)).toEqual({ ci_low: own.ci_low, ci_high: own.ci_high, reason: null });
  });
});
