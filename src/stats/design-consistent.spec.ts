/** Design-consistent estimators against test/fixtures/few-cluster/design-consistent.json (numpy, statsmodels). */
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference } from '../../test/fixtures/reference/compare';
import { didPanelDesign, stratifiedDifference } from './design-consistent';
import { fewClusterInference } from './few-cluster-inference';
import { loadFixture } from '../../test/fixtures/load-fixture';

const cases = loadFixture('few-cluster/design-consistent.json').cases as any[];

describe('stratifiedDifference', () => {
  const c = cases.find((x) => x.kind === 'stratified_difference');
  it('matches the numpy Neyman variance and Satterthwaite df', () => {
    const arms = (c.input.treated as number[]).map((t) => (t ? 'treatment' : 'control'));
    const r = stratifiedDifference(c.input.values, arms, c.input.strata, 'treatment', 'control');
    expect(r.status).toBe('ok');
    expect(compareToReference({ estimate: r.estimate, se: r.se, df: r.df, p_value: r.p_value, ci_low: r.ci_low, ci_high: r.ci_high }, c.expected, c.tolerance)).toEqual([]);
    expect(r.strata.reduce((s, x) => s + x.weight, 0)).toBeCloseTo(1, 14);
    assertNoNonFinite(r);
  });
  it('a stratum with one territory in an arm: insufficient_data, nothing invented', () => {
    const r = stratifiedDifference([1, 2, 3, 4, 5], ['t', 'c', 't', 'c', 'c'], ['a', 'a', 'b', 'b', 'b'], 't', 'c');
    expect(r.status).toBe('insufficient_data');
    expect(r.p_value).toBeNull();
  });
});

describe('pair fixed-effects panel DiD', () => {
  const c = cases.find((x) => x.kind === 'pair_fe_did');
  it('the design has the pair dummies and every few-cluster method matches the second route', () => {
    const x = c.input.x as number[][];
    const k = x[0].length;
    const built = didPanelDesign(x.map((r) => r[k - 3] as 0 | 1), x.map((r) => r[k - 2] as 0 | 1), c.input.pair);
    expect(built.x).toEqual(x);
    expect(built.coefficient).toBe(k - 1);
    const r = fewClusterInference({ x: built.x, y: c.input.y, clusters: c.input.clusters, coefficient: built.coefficient }, { weights: 'rademacher' });
    const row = (m: string) => r.methods.find((z) => z.method === m)!;
    const actual = {
      estimate: r.estimate,
      se_cr1: row('cr1_t').se,
      cr2_variance: row('cr2_bell_mccaffrey').se! ** 2,
      df_bell_mccaffrey: row('cr2_bell_mccaffrey').df,
      df_imbens_kolesar: row('cr2_imbens_kolesar').df,
      cr3_variance: row('cr3_jackknife').se! ** 2,
      cr3_df: row('cr3_jackknife').df,
      wcr_p: row('wild_cluster_bootstrap').p_value,
    };
    const expected = { ...c.expected };
    delete expected.leave_one_out;
    delete expected.rho;
    delete expected.sigma2;
    expect(compareToReference(actual, expected, { rel: 1e-8, abs: 1e-10 })).toEqual([]);
    expect(r.diagnostics.territories.map((t) => t.leave_one_out_estimate)).toEqual(
      (c.expected.leave_one_out as { estimate: number }[]).map((l) => expect.closeTo(l.estimate, 8)),
    );
  });
});
