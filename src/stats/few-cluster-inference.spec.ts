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

  it('P5 (pitfalls.md) an exact fit (no residual variation): every t row has SE 0, null p and CI, never p ≈ 0 / significant', () => {
    // 6 territories × 4 periods, y exactly additive in treated, post and their interaction: the
    // residuals are rounding noise (~1e-17), which must not become an SE (p was 7.7e-56 before)
    const x: number[][] = [];
    const y: number[] = [];
    const clusters: string[] = [];
    for (let g = 0; g < 6; g++) {
      for (let t = 0; t < 4; t++) {
        const tr = g < 3 ? 1 : 0;
        const post = t >= 2 ? 1 : 0;
        x.push([1, tr, post, tr * post]);
        y.push(0.1 + 0.7 * tr + 0.3 * post + (1 / 60.7) * tr * post);
        clusters.push(`T${g}`);
      }
    }
    const r = fewClusterInference({ x, y, clusters, coefficient: 3 }, { alpha: 0.05 });
    assertNoNonFinite(r);
    expect(r.estimate).toBeCloseTo(1 / 60.7, 12);
    for (const m of r.methods) expect({ method: m.method, se: m.se, p: m.p_value, lo: m.ci_low, hi: m.ci_high }).toEqual({ method: m.method, se: 0, p: null, lo: null, hi: null });
    expect(r.fragility).toMatchObject({ fragile: false, significant: [], not_significant: [], note: 'No method could be computed for these data.' });
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
