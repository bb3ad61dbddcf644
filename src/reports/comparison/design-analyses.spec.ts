/**
 * designAnalyses wires the design-consistent methods; the numbers are checked against the fixtures of
 * the stats modules (test/fixtures/few-cluster/*.json, numpy/statsmodels second routes).
 */
import { assertNoNonFinite } from '../../../test/fixtures/assert-finite';
import { randomizationDesignFromStored } from '../../stats/design/designs';
import { designAnalyses } from './design-analyses';
import { loadFixture } from '../../../test/fixtures/load-fixture';

const load = (f: string) => loadFixture(`few-cluster/${f}`).cases as any[];
const arms2 = [
  { key: 'control', role: 'control' as const },
  { key: 'treatment', role: 'treatment' as const },
];
const budget = { alpha: 0.05, seed: 1, draws: 999, maxExact: 100_000 };

/**
 * The matched-pairs input of the pair-FE fixture (design-consistent.json, kind 'pair_fe_did'): one
 * territory per cluster, its arm from the treatment column, its pair as stratum, its pre/test weekly
 * values and the test-period sum as value; `base` is designAnalyses' input without a stored design.
 */
function pairFeCase() {
  const c = load('design-consistent.json').find((x) => x.kind === 'pair_fe_did');
  const x = c.input.x as number[][];
  const k = x[0].length;
  const codes: string[] = [...new Set<string>(c.input.clusters)];
  const rowsOf = (code: string) => x.map((r, i) => [r, i] as const).filter(([, i]) => c.input.clusters[i] === code);
  const arms = codes.map((code) => (rowsOf(code)[0][0][k - 3] === 1 ? 'treatment' : 'control'));
  const strata = codes.map((code) => c.input.pair[c.input.clusters.indexOf(code)]);
  const weekly = codes.map((code) => {
    const rs = rowsOf(code);
    return { pre: rs.filter(([r]) => r[k - 2] === 0).map(([, i]) => c.input.y[i]), test: rs.filter(([r]) => r[k - 2] === 1).map(([, i]) => c.input.y[i]) };
  });
  const values = weekly.map((w) => w.test.reduce((s: number, v: number) => s + v, 0));
  return { c, codes, base: { designType: 'matched_pairs', values, arms, strata, treatmentArm: 'treatment', controlArm: 'control', weekly, ...budget } };
}

describe('designAnalyses', () => {
  it('matched pairs: Welch only as a labelled naive comparison; the pair-FE panel matches the second route', () => {
    const { c, codes, base } = pairFeCase();
    const design = randomizationDesignFromStored({ type: 'matched_pairs', arms: arms2 }, codes.map((code, i) => ({ code, arm: base.arms[i], stratum: base.strata[i] })));
    const r = designAnalyses({ ...base, design });
    assertNoNonFinite(r);
    const welch = r.rows.find((x) => x.key.startsWith('welch'))!;
    expect(welch.key).toBe('welch_naive');
    expect(welch.role).toBe('naive_comparison');
    expect(r.rows.map((x) => x.key)).toEqual(['welch_naive', 'paired_t', 'randomization_t']);
    expect(r.panel!.fixed_effects).toBe('pair');
    const m = (key: string) => r.panel!.methods.find((z) => z.method === key)!;
    expect(m('cr2_bell_mccaffrey').se! ** 2).toBeCloseTo(c.expected.cr2_variance, 9);
    expect(m('cr3_jackknife').se! ** 2).toBeCloseTo(c.expected.cr3_variance, 9);
    expect(r.panel!.estimate).toBeCloseTo(c.expected.estimate, 10);
    // the naive row never enters the fragile flag
    expect([...r.fragility.significant, ...r.fragility.not_significant, ...r.fragility.unavailable].some((s) => s.includes('naive'))).toBe(false);
  });

  it("the locked plan's few-cluster method decides the panel; the others stay robustness rows", () => {
    const { base } = pairFeCase();
    const byDefault = designAnalyses(base);
    expect(byDefault.panel!.deciding_method).toBe('wild_cluster_bootstrap');
    for (const method of ['cr3_jackknife', 'cr2_imbens_kolesar'] as const) {
      const r = designAnalyses({ ...base, fewClusterMethod: method });
      expect(r.panel!.deciding_method).toBe(method);
      expect(r.panel!.methods.filter((z) => z.deciding).map((z) => z.method)).toEqual([method]);
      // the deciding method's CI is its own (CR3's differs from the bootstrap's)
      const row = r.panel!.methods.find((z) => z.method === method)!;
      expect(row.ci_low).not.toBeNull();
      expect(row.ci_low).not.toBe(byDefault.panel!.methods.find((z) => z.method === 'wild_cluster_bootstrap')!.ci_low);
    }
  });

  it('stratified: the stratum-weighted difference and its randomization tests', () => {
    const c = load('design-consistent.json').find((x) => x.kind === 'stratified_difference');
    const arms = (c.input.treated as number[]).map((t) => (t ? 'treatment' : 'control'));
    const design = randomizationDesignFromStored({ type: 'stratified', arms: arms2 }, arms.map((arm, i) => ({ code: `U${i}`, arm, stratum: c.input.strata[i] })));
    const r = designAnalyses({ designType: 'stratified', values: c.input.values, arms, strata: c.input.strata, treatmentArm: 'treatment', controlArm: 'control', design, ...budget });
    const sd = r.rows.find((x) => x.key === 'stratified_difference')!;
    expect(sd.estimate).toBeCloseTo(c.expected.estimate, 12);
    expect(sd.p_value).toBeCloseTo(c.expected.p_value, 10);
    expect(r.rows.find((x) => x.key === 'welch')!.role).toBe('design_consistent');
    const ri = r.rows.find((x) => x.key === 'randomization_stratified')!;
    expect(ri.estimate).toBeCloseTo(c.expected.estimate, 12); // the same stratum-weighted statistic
    expect(r.rows.find((x) => x.key === 'randomization_t')!.label).toContain('stratified t');
    expect(r.panel).toBeNull();
    // territory diagnostics of the difference in means: partial leverage of a 0/1 regressor is 1/n_arm per territory
    const d = r.territory_diagnostics!;
    expect(d.territories).toHaveLength(19);
    // the full-sample estimate of y ~ 1 + T is the difference in means (the Welch row's estimate)
    expect(d.estimate).toBeCloseTo(r.rows.find((x) => x.key === 'welch')!.estimate!, 10);
    const nT = arms.filter((a) => a === 'treatment').length;
    d.territories.forEach((t, i) => expect(t.partial_leverage).toBeCloseTo(arms[i] === 'treatment' ? (1 - nT / 19) / nT : (nT / 19) / (19 - nT), 12));
    expect(d.territories.every((t) => t.leave_one_out_estimate !== null)).toBe(true);
    assertNoNonFinite(r);
  });

  it('rerandomization: Lin on the balancing covariates and its randomization-t under the acceptance rule', () => {
    const c = load('randomization-t.json').find((x) => x.name === 'rerandomization_lin');
    const arms = (c.input.treated as number[]).map((t) => (t ? 'treatment' : 'control'));
    const units = arms.map((arm, i) => ({ code: `U${String(i).padStart(2, '0')}`, arm, stratum: 'all', covariates: { c0: c.input.covariates[i][0], c1: c.input.covariates[i][1] } }));
    const design = randomizationDesignFromStored({ type: 'rerandomization', arms: arms2, rerandomization: { covariates: ['c0', 'c1'], acceptance_probability: c.input.acceptance_probability } }, units);
    const r = designAnalyses({ designType: 'rerandomization', values: c.input.y, arms, strata: units.map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control', design, covariates: c.input.covariates, ...budget });
    const lin = r.rows.find((x) => x.key === 'lin_balancing_covariates')!;
    expect(lin.estimate).toBeCloseTo(c.expected.estimate, 10);
    const rt = r.rows.find((x) => x.key === 'randomization_t')!;
    expect(rt.p_value).toBeCloseTo(c.expected.p_value, 12);
    expect(r.rows.find((x) => x.key === 'welch_naive')!.label).toContain('naive');
    assertNoNonFinite(r);
  });

  it("labels the two Lin regressions a reader sees: the balancing covariates (named, n − 6 df) and the diagnostics' pre-period KPI alone (n − 4 df)", () => {
    const c = load('randomization-t.json').find((x) => x.name === 'rerandomization_lin');
    const arms = (c.input.treated as number[]).map((t) => (t ? 'treatment' : 'control'));
    const n = arms.length;
    const pre = (c.input.y as number[]).map((v, i) => v * 0.9 + ((i * 7) % 5));
    const r = designAnalyses({
      designType: 'rerandomization', values: c.input.y, arms, strata: arms.map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control',
      covariates: c.input.covariates, covariateNames: ['pre_won_revenue', 'pre_period_sales_velocity'], pre, ...budget,
    });
    const lin = r.rows.find((x) => x.key === 'lin_balancing_covariates')!;
    expect(lin.note).toBe(
      `adjusts for the 2 covariates the rerandomization balanced (pre_won_revenue, pre-period sales velocity), not for the pre-period KPI: ` +
        `6 regression columns (intercept, treatment, each centred covariate and its interaction), HC2, df = n − k = ${n} − 6 = ${n - 6}`,
    );
    expect(r.territory_diagnostics!.model).toContain(`Lin's regression on the pre-period KPI alone, not on the design's balancing covariates: 4 regression columns, df = n − k = ${n} − 4 = ${n - 4}`);
  });
});
