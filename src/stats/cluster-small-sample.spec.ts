/**
 * CR2 with Bell–McCaffrey and Imbens–Kolesár df, and CR3 (jackknife), against the second route in
 * test/fixtures/few-cluster/cluster-small-sample.json (direct N × N formulas and explicit
 * leave-one-cluster-out refits in numpy; CR1 from statsmodels; script beside the fixture).
 */
import { compareToReference } from '../../test/fixtures/reference/compare';
import { cr2WithImbensKolesarDf, cr3Jackknife } from './cluster-small-sample';
import { cr1Covariance, cr2Coefficient, olsFit } from './linear-model';
import { loadFixture } from '../../test/fixtures/load-fixture';

interface Case {
  name: string;
  input: { x: number[][]; y: number[]; clusters: string[]; coefficient: number };
  expected: Record<string, unknown>;
  tolerance: { rel: number; abs: number };
}
const fixture = loadFixture('few-cluster/cluster-small-sample.json') as { cases: Case[] };

describe('cluster small-sample inference against the numpy/statsmodels second route', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const fit = olsFit(c.input.x, c.input.y);
    const j = c.input.coefficient;
    const cr1 = cr1Covariance(fit, c.input.clusters)!;
    const ik = cr2WithImbensKolesarDf(fit, c.input.clusters, j)!;
    const cr3 = cr3Jackknife(fit, c.input.clusters, j);
    const actual = {
      estimate: fit.coef[j],
      se_cr1: Math.sqrt(cr1[j][j]),
      cr2_variance: ik.variance,
      df_bell_mccaffrey: ik.df_bell_mccaffrey,
      df_imbens_kolesar: ik.df_imbens_kolesar,
      rho: ik.rho,
      sigma2: ik.sigma2,
      cr3_variance: cr3.variance,
      cr3_df: cr3.df,
      leave_one_out: cr3.leave_one_out,
    };
    expect(compareToReference(actual, c.expected, c.tolerance)).toEqual([]);
    // the existing CR2 route gives the same variance and Bell–McCaffrey df
    const old = cr2Coefficient(fit, c.input.clusters, j)!;
    expect(old.variance).toBeCloseTo(ik.variance, 10);
    expect(old.df).toBeCloseTo(ik.df_bell_mccaffrey!, 8);
  });

  it('CR3 is undefined when leaving out a cluster removes a coefficient (its own fixed effect)', () => {
    const x = [
      [1, 1, 0],
      [1, 1, 0],
      [1, 0, 1],
      [1, 0, 0],
      [1, 0, 0],
    ];
    const y = [1, 2, 3, 4, 6];
    const clusters = ['a', 'a', 'b', 'c', 'c'];
    const r = cr3Jackknife(olsFit(x, y), clusters, 1);
    expect(r.status).toBe('undefined');
    expect(r.variance).toBeNull();
    expect(r.reason).toContain('cluster');
  });

  it('rejects a cluster vector of the wrong length and an out-of-range coefficient', () => {
    const fit = olsFit([[1, 0], [1, 1], [1, 2]], [1, 2, 4]);
    expect(() => cr3Jackknife(fit, ['a', 'b'], 1)).toThrow(RangeError);
    expect(() => cr2WithImbensKolesarDf(fit, ['a', 'b', 'c'], 2)).toThrow(RangeError);
  });
});
