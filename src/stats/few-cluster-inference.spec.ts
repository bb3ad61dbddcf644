/** fewClusterInference assembles the methods checked in their own specs; here: agreement and coherence. */
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { differenceInDifferences } from './difference-in-differences';
import { fewClusterInference } from './few-cluster-inference';
import { loadFixture } from '../../test/fixtures/load-fixture';

const cases = loadFixture('few-cluster/cluster-small-sample.json').cases as {
  name: string;
  input: { x: number[][]; y: number[]; clusters: string[]; coefficient: number };
  expected: { cr2_variance: number; df_bell_mccaffrey: number; df_imbens_kolesar: number; cr3_variance: number };
}[];

describe('fewClusterInference', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: every row matches its own reference and keeps p < α ⇔ CI excludes 0', (_n, c) => {
    const r = fewClusterInference(c.input, { alpha: 0.05 });
    assertNoNonFinite(r);
    const row = (m: string) => r.methods.find((x) => x.method === m)!;
    expect(row('cr2_bell_mccaffrey').se! ** 2).toBeCloseTo(c.expected.cr2_variance, 8);
    expect(row('cr2_imbens_kolesar').df!).toBeCloseTo(c.expected.df_imbens_kolesar, 8);
    expect(row('cr3_jackknife').se! ** 2).toBeCloseTo(c.expected.cr3_variance, 8);
    expect(r.methods.filter((m) => m.deciding).map((m) => m.method)).toEqual(['wild_cluster_bootstrap']);
    for (const m of r.methods) {
      if (m.p_value === null) continue;
      expect(m.ci_low!).toBeLessThanOrEqual(m.estimate!);
      expect(m.ci_high!).toBeGreaterThanOrEqual(m.estimate!);
      expect(m.p_value < 0.05).toBe(m.ci_low! > 0 || m.ci_high! < 0);
      expect(m.label).not.toMatch(/_/);
    }
    expect(r.fragility.fragile).toBe(r.fragility.significant.length > 0 && r.fragility.not_significant.length > 0);
  });

  it('on a DiD panel the CR2 row equals the existing differenceInDifferences CR2 inference', () => {
    const c = cases[0];
    const x = c.input.x;
    const did = differenceInDifferences({
      territory: c.input.clusters,
      period: x.map((_, i) => i),
      treated: x.map((r) => (r[1] ? 1 : 0)),
      post: x.map((r) => (r[2] ? 1 : 0)),
      y: c.input.y,
    });
    const r = fewClusterInference(c.input);
    const cr2 = r.methods.find((m) => m.method === 'cr2_bell_mccaffrey')!;
    expect(cr2.p_value!).toBeCloseTo(did.cr2.p_value!, 10);
    expect(cr2.ci_low!).toBeCloseTo(did.cr2.ci_low!, 9);
  });
});
