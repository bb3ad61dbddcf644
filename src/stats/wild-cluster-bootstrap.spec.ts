/**
 * WCR against the second route in test/fixtures/few-cluster/wild-cluster-bootstrap.json: one OLS
 * refit per weight vector in numpy over ALL weight vectors (no v ↔ −v halving), and the CI by the
 * same inversion rule. Plus properties the algebra must have.
 */
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference } from '../../test/fixtures/reference/compare';
import { wcrKernel, wcrPlan, wildClusterBootstrap } from './wild-cluster-bootstrap';
import { loadFixture } from '../../test/fixtures/load-fixture';

interface Case {
  name: string;
  input: { x: number[][]; y: number[]; clusters: string[]; coefficient: number; weights: 'rademacher' | 'webb'; alpha: number; null_values: number[] };
  expected: { estimate: number; se_cr1: number; vectors_enumerated: number; p_values: number[]; ci_low: number; ci_high: number };
  tolerance: { rel: number; abs: number; fields?: Record<string, { rel: number; abs: number }> };
}
const fixture = loadFixture('few-cluster/wild-cluster-bootstrap.json') as { cases: Case[] };

describe('wild cluster restricted bootstrap against full enumeration by OLS refits (numpy)', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { x, y, clusters, coefficient, weights, alpha } = c.input;
    const runs = c.input.null_values.map((r) => wildClusterBootstrap({ x, y, clusters, coefficient, weights, alpha, nullValue: r, ci: r === 0 }));
    const r0 = runs[0];
    expect(r0.enumeration).toBe(true);
    // half the vectors are visited (v and −v give the same |t*|)
    expect(r0.draws * 2).toBe(c.expected.vectors_enumerated);
    const actual = {
      estimate: r0.estimate,
      se_cr1: r0.se_cr1,
      vectors_enumerated: r0.draws * 2,
      p_values: runs.map((r) => r.p_value),
      ci_low: r0.ci_low,
      ci_high: r0.ci_high,
    };
    expect(compareToReference(actual, c.expected, c.tolerance)).toEqual([]);
    expect(r0.ci_low!).toBeLessThanOrEqual(r0.estimate!);
    expect(r0.ci_high!).toBeGreaterThanOrEqual(r0.estimate!);
    assertNoNonFinite(r0);
  });
});

describe('wild cluster restricted bootstrap: properties', () => {
  const c = fixture.cases[2];
  const { x, y, clusters, coefficient } = c.input;

  it('the all-ones weight vector reproduces the observed t (first enumerated vector)', () => {
    const k = wcrKernel(x, y, clusters, coefficient, { weights: 'rademacher', enumerate: true, draws: 0, seed: 0 });
    for (const r of [0, 1.3, -4]) {
      const tStar = (k.n0[0] - r * k.n1[0]) / Math.sqrt(k.c * (k.qa[0] - 2 * r * k.qb[0] + r * r * k.qd[0]));
      expect(tStar).toBeCloseTo((k.estimate - r) / k.se, 9);
    }
  });

  it('chooses Webb below 12 clusters and enumerates only up to maxEnumeration vectors', () => {
    expect(wcrPlan(5, 'auto', 100_000)).toEqual({ weights: 'webb', enumerate: true });
    expect(wcrPlan(7, 'auto', 100_000)).toEqual({ weights: 'webb', enumerate: false });
    expect(wcrPlan(12, 'auto', 100_000)).toEqual({ weights: 'rademacher', enumerate: true });
    expect(wcrPlan(16, 'auto', 100_000)).toEqual({ weights: 'rademacher', enumerate: true });
    expect(wcrPlan(17, 'auto', 100_000)).toEqual({ weights: 'rademacher', enumerate: false });
  });

  it('Monte Carlo: seeded and reproducible, p never 0, and close to the exact p', () => {
    const exact = wildClusterBootstrap({ x, y, clusters, coefficient, ci: false });
    const a = wildClusterBootstrap({ x, y, clusters, coefficient, maxEnumeration: 0, draws: 9_999, seed: 7 });
    const b = wildClusterBootstrap({ x, y, clusters, coefficient, maxEnumeration: 0, draws: 9_999, seed: 7 });
    expect(a).toEqual(b);
    expect(a.enumeration).toBe(false);
    expect(a.seed).toBe(7);
    // binomial Monte Carlo error at B = 9,999: sd ≤ 0.005
    expect(Math.abs(a.p_value! - exact.p_value!)).toBeLessThan(0.02);
    const far = wildClusterBootstrap({ x, y, clusters, coefficient, maxEnumeration: 0, draws: 99, seed: 1, nullValue: 1e6, ci: false });
    expect(far.p_value).toBeCloseTo(1 / 100, 12);
  });

  it('p < α exactly when the CI excludes the null value', () => {
    for (const nullValue of [-9, -8.2, -6, 0, 2.6, 2.7, 4]) {
      const r = wildClusterBootstrap({ x, y, clusters, coefficient, nullValue });
      const excluded = nullValue < r.ci_low! || nullValue > r.ci_high!;
      expect(r.p_value! < 0.05).toBe(excluded);
    }
  });

  it('a planted effect far beyond the noise is rejected', () => {
    const planted = y.map((v, i) => v + 50 * x[i][coefficient]);
    const r = wildClusterBootstrap({ x, y: planted, clusters, coefficient });
    expect(r.p_value).toBeLessThan(0.01);
    expect(r.ci_low!).toBeGreaterThan(0);
  });

  it('degenerate input: one cluster → insufficient_data; bad input → RangeError', () => {
    const one = wildClusterBootstrap({ x: [[1, 0], [1, 1], [1, 0]], y: [1, 2, 3], clusters: ['a', 'a', 'a'], coefficient: 1 });
    expect(one.status).toBe('insufficient_data');
    expect(one.p_value).toBeNull();
    expect(() => wildClusterBootstrap({ x: [[1]], y: [1, 2], clusters: ['a'], coefficient: 0 })).toThrow(RangeError);
    expect(() => wildClusterBootstrap({ x, y, clusters, coefficient: 9 })).toThrow(RangeError);
    expect(() => wildClusterBootstrap({ x, y: y.map(() => NaN), clusters, coefficient })).toThrow(RangeError);
  });
});
