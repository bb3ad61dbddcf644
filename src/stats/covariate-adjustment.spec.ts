import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { ancova, cuped, linRegressionAdjustment } from './covariate-adjustment';

interface CupedInput {
  y: number[];
  x: number[];
  treated: (0 | 1)[];
}
const reference = loadReference<CupedInput>('cuped');

describe('cuped and ancova against cuped.json (numpy closed form, statsmodels OLS HC0–HC3)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { ols, ...rest } = c.expected;
    const r = cuped(c.input.y, c.input.x, c.input.treated);
    assertNoNonFinite(r);
    expect(compareToReference(r, rest, c.tolerance)).toEqual([]);
    const a = ancova(c.input.y, c.input.x, c.input.treated);
    expect(compareToReference(a, ols, c.tolerance, { integerFields: ['df_resid'] })).toEqual([]);
  });
});

describe('linRegressionAdjustment (Lin 2013, HC2, n − k df)', () => {
  const c = reference.cases.find((x) => x.name === 'velocity_10v10')!;

  it('estimates the difference of the two arm regressions at the pooled mean of X, with n − k df', () => {
    const r = linRegressionAdjustment(c.input.y, c.input.x, c.input.treated);
    expect(r.status).toBe('ok');
    expect(r.k).toBe(4);
    expect(r.df).toBe(16);
    // Lin's estimator is the difference of the two arm regressions evaluated at the pooled mean of X.
    const arm = (t: 0 | 1) => {
      const idx = c.input.treated.map((v, i) => (v === t ? i : -1)).filter((i) => i >= 0);
      const xs = idx.map((i) => c.input.x[i]);
      const ys = idx.map((i) => c.input.y[i]);
      const mxArm = xs.reduce((s, v) => s + v, 0) / xs.length;
      const myArm = ys.reduce((s, v) => s + v, 0) / ys.length;
      const sxy = xs.reduce((s, v, i) => s + (v - mxArm) * (ys[i] - myArm), 0);
      const sxx = xs.reduce((s, v) => s + (v - mxArm) ** 2, 0);
      return { mx: mxArm, my: myArm, b: sxy / sxx };
    };
    const mx = c.input.x.reduce((s, v) => s + v, 0) / c.input.x.length;
    const t = arm(1);
    const k = arm(0);
    const expected = t.my + t.b * (mx - t.mx) - (k.my + k.b * (mx - k.mx));
    expect(r.estimate!).toBeCloseTo(expected, 8);
    expect(r.ci_low!).toBeLessThan(r.estimate!);
    expect(r.ci_high!).toBeGreaterThan(r.estimate!);
  });

  it('never fills a missing X with 0: drop and mean-impute with an indicator are both stated', () => {
    const x: (number | null)[] = [...c.input.x];
    x[0] = null;
    x[3] = null;
    const dropped = linRegressionAdjustment(c.input.y, x, c.input.treated, { missingX: 'drop' });
    expect(dropped.missing_x).toBe('drop');
    expect(dropped.n).toBe(18);
    expect(dropped.n_missing_x).toBe(2);
    const imputed = linRegressionAdjustment(c.input.y, x, c.input.treated, { missingX: 'mean_impute' });
    expect(imputed.missing_x).toBe('mean_impute');
    expect(imputed.n).toBe(20);
    expect(imputed.k).toBe(6);
    const zeroFilled = linRegressionAdjustment(
      c.input.y,
      x.map((v) => v ?? 0),
      c.input.treated,
    );
    expect(imputed.estimate).not.toBeCloseTo(zeroFilled.estimate!, 3);
    const cup = cuped(c.input.y, x, c.input.treated);
    expect(cup.n_dropped_missing_x).toBe(2);
    expect(cup.adjusted_values[0]).toBeNull();
    assertNoNonFinite(imputed);
  });

  it('returns insufficient_data for an arm with one territory, never NaN', () => {
    const r = linRegressionAdjustment([1, 2, 3], [1, 2, 3], [1, 0, 0]);
    expect(r.status).toBe('insufficient_data');
    expect(r.p_value).toBeNull();
    assertNoNonFinite(r);
  });
});

describe('linRegressionAdjustment against a second route (numpy hand-coded HC2, second_routes.json)', () => {
  const second = loadReference<CupedInput>('second_routes');
  const cases = second.cases.filter((c) => (c as unknown as { method: string }).method === 'lin_hc2');
  it('has cases', () => expect(cases.length).toBe(6));
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = linRegressionAdjustment(c.input.y, c.input.x, c.input.treated);
    expect(compareToReference(r, c.expected, c.tolerance, { integerFields: ['df'] })).toEqual([]);
  });
});
