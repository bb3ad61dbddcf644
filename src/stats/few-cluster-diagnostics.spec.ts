/** Leverage, effective clusters and the fragile flag; reference: test/fixtures/few-cluster/diagnostics.json (numpy). */
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference } from '../../test/fixtures/reference/compare';
import { cr3Jackknife } from './cluster-small-sample';
import { fewClusterDiagnostics, fragility } from './few-cluster-diagnostics';
import { olsFit } from './linear-model';
import { loadFixture } from '../../test/fixtures/load-fixture';

interface Case {
  name: string;
  input: { x: number[][]; y: number[]; clusters: string[]; coefficient: number };
  expected: Record<string, unknown>;
  tolerance: { rel: number; abs: number };
}
const fixture = loadFixture('few-cluster/diagnostics.json') as { cases: Case[] };

describe('fewClusterDiagnostics against the dense numpy route', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const fit = olsFit(c.input.x, c.input.y);
    const d = fewClusterDiagnostics(fit, c.input.clusters, c.input.coefficient);
    const actual = {
      territories: d.territories.map(({ territory, rows, leverage, partial_leverage }) => ({ territory, rows, leverage, partial_leverage })),
      effective_clusters: d.effective_clusters,
      effective_clusters_independent: d.effective_clusters_independent,
    };
    expect(compareToReference(actual, c.expected, c.tolerance, { integerFields: ['rows'] })).toEqual([]);
    // leverages add up to k, partial leverages to 1; leave-one-out estimates are the jackknife's
    expect(d.territories.reduce((s, t) => s + t.leverage, 0)).toBeCloseTo(fit.k, 9);
    expect(d.territories.reduce((s, t) => s + t.partial_leverage, 0)).toBeCloseTo(1, 12);
    expect(d.territories.map((t) => t.leave_one_out_estimate)).toEqual(cr3Jackknife(fit, c.input.clusters, c.input.coefficient).leave_one_out.map((l) => l.estimate));
    assertNoNonFinite(d);
  });

  it('a dominant territory shows up: effective clusters far below G', () => {
    const c = fixture.cases.find((x) => x.name === 'one_dominant_territory_treated_effect')!;
    const d = fewClusterDiagnostics(olsFit(c.input.x, c.input.y), c.input.clusters, c.input.coefficient);
    expect(d.clusters).toBe(10);
    expect(d.effective_clusters!).toBeLessThan(3);
  });
});

describe('fragility', () => {
  it('flags methods on both sides of alpha, and only then', () => {
    const f = fragility([{ method: 'CR2 (Bell–McCaffrey df)', p_value: 0.03 }, { method: 'wild cluster bootstrap', p_value: 0.08 }, { method: 'CR3', p_value: null }], 0.05);
    expect(f.fragile).toBe(true);
    expect(f.significant).toEqual(['CR2 (Bell–McCaffrey df)']);
    expect(f.unavailable).toEqual(['CR3']);
    expect(f.note).toContain('Fragile');
    expect(fragility([{ method: 'a', p_value: 0.01 }, { method: 'b', p_value: 0.049 }], 0.05).fragile).toBe(false);
    expect(fragility([{ method: 'a', p_value: 0.05 }, { method: 'b', p_value: 0.2 }], 0.05).fragile).toBe(false);
    expect(() => fragility([], 1)).toThrow(RangeError);
  });
});
