/** Report coherence (issue 14): a Holm-adjusted decision comes with an interval that agrees with it. */
import { assertNoNonFinite } from '../../../test/fixtures/assert-finite';
import { adjustSecondary, compareKpi } from './kpi-comparison';
import type { PrimaryMethodKey } from '../../stats/primary-method';

const t0 = [14, 15, 13, 16, 12, 15, 17, 14];
const c0 = [10, 12, 9, 11, 13, 10, 11, 12];
const units = {
  arms: [...t0.map(() => 'treatment'), ...c0.map(() => 'control')],
  strata: [...t0, ...c0].map(() => 'all'),
  treatmentArm: 'treatment',
  controlArm: 'control',
};

describe('Holm-consistent intervals of secondary KPIs', () => {
  it.each<[PrimaryMethodKey]>([['randomization_inference'], ['lin_regression_hc2']])('%s: the interval excludes 0 exactly when the Holm-adjusted p is below α', (primaryMethod) => {
    const shifts = [4, 2.2, 1.2, 0];
    const m = shifts.length;
    const opts = { alpha: 0.05, maxExact: 100_000, draws: 999, seed: 7, primaryMethod, intervalAlphas: Array.from({ length: m }, (_, j) => 0.05 / (j + 1)) };
    const results = shifts.map((s, k) => {
      const values = [...t0.map((v) => v - 4 + s), ...c0];
      const base = [...t0.map((v) => v - 4), ...c0];
      const pre = base.map((v, i) => v - 1 + ((i * 7) % 5) * 0.3); // no treatment effect in the pre-period
      return compareKpi((['opportunities', 'revenue_won', 'win_rate', 'average_deal_size'] as const)[k], 'secondary', values, units, opts, { pre });
    });
    const adjusted = adjustSecondary(results, 0.05, 'holm');
    let checked = 0;
    for (const r of adjusted) {
      assertNoNonFinite(r);
      const iv = r.adjusted!.interval!;
      expect(iv.method).toBe('holm_consistent');
      expect(iv.ci_low).not.toBeNull();
      const excludes = iv.ci_low! > 0 || iv.ci_high! < 0;
      expect(excludes).toBe(r.significant);
      expect(iv.conf_level).toBeGreaterThanOrEqual(0.95);
      expect(r.verdict).toContain('Holm-consistent');
      checked++;
    }
    expect(checked).toBe(m);
    // both outcomes occur in this family, so the check is not vacuous
    expect(adjusted.some((r) => r.significant)).toBe(true);
    expect(adjusted.some((r) => !r.significant)).toBe(true);
  });
});
