import fc from 'fast-check';
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { studentTTest, TTestResult, welchTTest, zTestPValue } from './welch';

const reference = loadReference<{ treatment: number[]; control: number[] }, Record<string, unknown>>('welch');

/** Maps a flat TTestResult onto the nested reference block ({se, t, df, p_*, ci95_low, ci95_high}). */
function referenceBlock(r: TTestResult) {
  return {
    se: r.se,
    t: r.t,
    df: r.df,
    p_two_sided: r.p_two_sided,
    p_greater: r.p_greater,
    p_less: r.p_less,
    ci95_low: r.ci_low,
    ci95_high: r.ci_high,
  };
}

describe('welchTTest / studentTTest against welch.json (scipy 1.17.1 ttest_ind)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const welch = welchTTest(c.input.treatment, c.input.control);
    const student = studentTTest(c.input.treatment, c.input.control);
    assertNoNonFinite(welch);
    assertNoNonFinite(student);
    const actual = {
      n_t: welch.n_t,
      n_c: welch.n_c,
      mean_t: welch.mean_t,
      mean_c: welch.mean_c,
      var_t: welch.var_t,
      var_c: welch.var_c,
      diff: welch.diff,
      welch: referenceBlock(welch),
      student: referenceBlock(student),
    };
    expect(compareToReference(actual, c.expected, c.tolerance, { integerFields: ['student.df'] })).toEqual([]);
    const expectedStatus = (c.expected as { welch: { t: number | null } }).welch.t === null ? 'zero_variance' : 'ok';
    expect(welch.status).toBe(expectedStatus);
    expect(welch.conf_level).toBeCloseTo(0.95, 15);
  });

  it('returns insufficient_data with null inferential fields for an arm with one or zero territories', () => {
    const one = welchTTest([7], [3, 5, 4, 6]);
    expect(one.status).toBe('insufficient_data');
    expect(one.mean_t).toBe(7);
    expect(one.var_t).toBeNull();
    expect([one.se, one.t, one.df, one.p_two_sided, one.ci_low, one.ci_high]).toEqual([null, null, null, null, null, null]);
    const empty = welchTTest([], [1, 2]);
    expect(empty.status).toBe('insufficient_data');
    expect(empty.mean_t).toBeNull();
    expect(empty.diff).toBeNull();
    assertNoNonFinite(one);
    assertNoNonFinite(empty);
  });

  it('rejects non-finite data and alpha outside (0, 1)', () => {
    expect(() => welchTTest([1, NaN], [1, 2])).toThrow(RangeError);
    expect(() => welchTTest([1, 2], [1, 2], { alpha: 1 })).toThrow(RangeError);
  });
});

describe('zTestPValue (pitfall P2: the sign matters for one-sided tests)', () => {
  // values from pitfalls.md P2 (scipy 1.17 norm.sf)
  it('z = -2 greater -> 0.977250, z = +2 greater -> 0.0227501, less mirrors', () => {
    expect(zTestPValue(-2, 'greater')).toBeCloseTo(0.97725, 6);
    expect(zTestPValue(2, 'greater')).toBeCloseTo(0.0227501, 7);
    expect(zTestPValue(2, 'less')).toBeCloseTo(0.97725, 6);
    expect(zTestPValue(-2, 'two-sided')).toBeCloseTo(0.0455003, 7);
  });
});

describe('welchTTest properties (fast-check)', () => {
  const kpi = fc.double({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true });
  const arm = fc.array(kpi, { minLength: 2, maxLength: 25 });
  const alphaArb = fc.constantFrom(0.01, 0.05, 0.1, 0.2);

  it('lower <= diff <= upper and p in (0, 1] whenever the test is ok', () => {
    fc.assert(
      fc.property(arm, arm, alphaArb, (t, c, alpha) => {
        const r = welchTTest(t, c, { alpha });
        assertNoNonFinite(r);
        if (r.status !== 'ok') return r.p_two_sided === null && r.ci_low === null;
        return (
          (r.ci_low as number) <= (r.diff as number) &&
          (r.diff as number) <= (r.ci_high as number) &&
          (r.p_two_sided as number) > 0 &&
          (r.p_two_sided as number) <= 1
        );
      }),
      { numRuns: 300 },
    );
  });

  it('p < alpha exactly when the (1 - alpha) CI excludes 0', () => {
    fc.assert(
      fc.property(arm, arm, alphaArb, (t, c, alpha) => {
        const r = welchTTest(t, c, { alpha });
        if (r.status !== 'ok') return true;
        const excludes = (r.ci_low as number) > 0 || (r.ci_high as number) < 0;
        // skip the measure-zero boundary where both sides agree to 1e-12
        if (Math.abs((r.p_two_sided as number) - alpha) < 1e-12) return true;
        return excludes === (r.p_two_sided as number) < alpha;
      }),
      { numRuns: 300 },
    );
  });

  it('swapping arms flips the sign of diff, t and CI and swaps the one-sided p-values only', () => {
    fc.assert(
      fc.property(arm, arm, (t, c) => {
        const a = welchTTest(t, c);
        const b = welchTTest(c, t);
        if (a.status !== 'ok') return b.status === a.status;
        const close = (x: number | null, y: number | null) =>
          Math.abs((x as number) - (y as number)) <= 1e-9 * Math.max(1, Math.abs(x as number));
        return (
          close(a.diff, -(b.diff as number)) &&
          close(a.t, -(b.t as number)) &&
          close(a.df, b.df) &&
          close(a.p_two_sided, b.p_two_sided) &&
          close(a.p_greater, b.p_less) &&
          close(a.ci_low, -(b.ci_high as number))
        );
      }),
      { numRuns: 200 },
    );
  });

  it('adding the same constant to every value leaves diff, se, df and p unchanged', () => {
    // values on a quarter-unit grid and integer shifts, so the shift itself is exact in floating point
    const gridArm = fc.array(fc.integer({ min: -40_000, max: 40_000 }).map((v) => v / 4), { minLength: 2, maxLength: 25 });
    fc.assert(
      fc.property(gridArm, gridArm, fc.integer({ min: -1000, max: 1000 }), (t, c, shift) => {
        const a = welchTTest(t, c);
        const b = welchTTest(
          t.map((v) => v + shift),
          c.map((v) => v + shift),
        );
        if (a.status !== 'ok') return b.status === a.status;
        const close = (x: number | null, y: number | null, rel: number) =>
          Math.abs((x as number) - (y as number)) <= rel * Math.max(1e-300, Math.abs(x as number)) + 1e-9;
        return (
          b.status === 'ok' &&
          close(a.diff, b.diff, 1e-9) &&
          close(a.se, b.se, 1e-9) &&
          close(a.df, b.df, 1e-9) &&
          close(a.p_two_sided, b.p_two_sided, 1e-8)
        );
      }),
      { numRuns: 200 },
    );
  });
});
