import { assertNoNonFinite } from '../../../test/fixtures/assert-finite';
import { adjustSecondary, compareKpi, compareKpiAsync } from './kpi-comparison';
import { randomizationSeed } from './comparison-inputs';
import { KpiResult } from '../report.types';
import { RELATIVE_LIFT_DEFAULT_INTERVAL, relativeLift } from '../../stats/relative-lift';

const OPTS = { alpha: 0.05, maxExact: 100_000, draws: 999, seed: 42 };

/** Units of a complete design: the treatment values first, then the control values. */
function units(t: (number | null)[], c: (number | null)[]) {
  return {
    values: [...t, ...c],
    design: {
      arms: [...t.map(() => 'treatment'), ...c.map(() => 'control')],
      strata: [...t, ...c].map(() => 'all'),
      treatmentArm: 'treatment',
      controlArm: 'control',
    },
  };
}

function compare(kpi: Parameters<typeof compareKpi>[0], t: (number | null)[], c: (number | null)[], role: KpiResult['role'] = 'primary') {
  const u = units(t, c);
  return compareKpi(kpi, role, u.values, u.design, OPTS);
}

// Right answers below are those of shared/cases/pitfalls.md (scipy 1.17 / by hand), 6 significant digits.
const close = (actual: number | null, expected: number, rel = 5e-6) => {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
};

describe('compareKpi: degenerate arms give an explicit status, never NaN (pitfall P5)', () => {
  it('(a) all zeros in both arms: zero_variance, no verdict of significance', () => {
    const r = compare('revenue_won', [0, 0, 0, 0], [0, 0, 0, 0]);
    assertNoNonFinite(r);
    expect(r.status).toBe('zero_variance');
    expect(r.significant).toBeNull();
    expect(r.difference.p_value).toBeNull();
    expect(r.difference.ci_low).toBeNull();
    expect(r.relative_lift.status).toBe('baseline_not_positive');
    expect(r.verdict).toMatch(/^Cannot judge revenue won/);
  });

  it('(b) a treatment arm with one territory: insufficient_data', () => {
    const r = compare('sales_velocity', [7], [3, 5, 4, 6]);
    assertNoNonFinite(r);
    expect(r.status).toBe('insufficient_data');
    expect(r.treatment).toMatchObject({ n_territories: 1, mean: 7, sd: null });
    expect(r.significant).toBeNull();
    expect(r.verdict).toMatch(/at least 2 territories/);
  });

  it('(c) constant arms [5,5,5] vs [2,2,2]: never p = 0 or significant; randomization p is the 3-vs-3 floor 0.1', () => {
    const r = compare('win_rate', [5, 5, 5], [2, 2, 2]);
    assertNoNonFinite(r);
    expect(r.status).toBe('zero_variance');
    expect(r.randomization).toMatchObject({ method: 'exact', n_assignments: 20, p_value: 0.1, min_attainable_p: 0.1 });
    expect(r.significant).toBeNull();
    // the relative lift has SE 0 too: null bounds with the reason, like the difference (issue 13)
    expect(r.relative_lift).toMatchObject({ status: 'zero_variance', estimate: 1.5, ci_low: null, ci_high: null, fieller: { ci_low: null, ci_high: null } });
    expect(r.relative_lift.note).toMatch(/standard error of the lift is 0/);
  });

  it('territories with an undefined value are left out of the means and counted as missing', () => {
    const r = compare('win_rate', [0.5, null, 0.7, 0.6], [0.4, 0.45, null, 0.5]);
    expect(r.treatment).toMatchObject({ n_territories: 3, n_missing: 1 });
    expect(r.control).toMatchObject({ n_territories: 3, n_missing: 1 });
    close(r.treatment.mean, 0.6);
  });
});

describe('compareKpi: numbers are right and consistent', () => {
  it('P7: difference 3, t 3, df 8, p 0.0170717, 95% CI [0.693996, 5.30600]; p < α exactly when the CI excludes 0', () => {
    const r = compare('opportunities', [14, 15, 13, 16, 12], [10, 12, 9, 11, 13]);
    expect(r.difference.estimate).toBe(3);
    close(r.difference.t, 3);
    close(r.difference.df, 8);
    close(r.difference.p_value, 0.0170717);
    close(r.difference.ci_low, 0.693996);
    close(r.difference.ci_high, 5.306);
    expect(r.difference.p_value! < 0.05).toBe(r.difference.ci_low! > 0 || r.difference.ci_high! < 0);
    expect(r.difference.ci_low!).toBeLessThanOrEqual(r.difference.estimate!);
    expect(r.difference.estimate!).toBeLessThanOrEqual(r.difference.ci_high!);
  });

  it('issue 16: the relative lift shows the default interval (the one that covered in calibration), named, with delta, Fieller and log-ratio beside it', () => {
    const t = [5200, 1300, 9800, 2100, 700, 15400];
    const c = [3100, 900, 7600, 1800, 650, 11000];
    const r = compare('revenue_won', t, c);
    const own = relativeLift(t, c, { alpha: 0.05 });
    expect(r.relative_lift.method).toBe(RELATIVE_LIFT_DEFAULT_INTERVAL);
    const shown = RELATIVE_LIFT_DEFAULT_INTERVAL === 'delta' ? own.delta : RELATIVE_LIFT_DEFAULT_INTERVAL === 'fieller' ? own.fieller : own.log_ratio;
    expect([r.relative_lift.ci_low, r.relative_lift.ci_high]).toEqual([shown.ci_low, shown.ci_high]);
    expect(r.relative_lift.delta).toEqual({ ci_low: own.delta.ci_low, ci_high: own.delta.ci_high });
    expect(r.relative_lift.log_ratio).toEqual({ ci_low: own.log_ratio.ci_low, ci_high: own.log_ratio.ci_high });
    expect(r.relative_lift.fieller).toEqual({ bounded: own.fieller.bounded, shape: own.fieller.shape, ci_low: own.fieller.ci_low, ci_high: own.fieller.ci_high });
  });

  it('P4: a negative baseline never gives a sign-flipped relative lift; the absolute lift is +5', () => {
    const r = compare('sales_velocity', [-6, -4, -5, -7, -3], [-12, -8, -10, -11, -9]);
    expect(r.difference.estimate).toBe(5);
    close(r.difference.t, 5);
    close(r.difference.df, 8);
    close(r.difference.p_value, 0.00105283);
    expect(r.relative_lift).toMatchObject({ status: 'baseline_not_positive', estimate: null, ci_low: null, ci_high: null });
  });

  it('P3: uses sample variances (t = 2.53001, df = 5.15041, p = 0.0511378), not population ones (t = 2.77046)', () => {
    const r = compare('average_deal_size', [1200, 950, 1800, 400, 2600, 700], [300, 450, 500, 380, 420, 610, 550, 290], 'secondary');
    close(r.difference.t, 2.53001);
    close(r.difference.df, 5.15041);
    close(r.difference.p_value, 0.0511378);
    close(r.difference.ci_low, -6.01187);
    close(r.difference.ci_high, 1681.01);
  });

  it('a clear effect is called significant, and the direction respects lower-is-better KPIs', () => {
    const t = [30, 31, 29, 32, 33, 30, 31, 34];
    const c = [20, 21, 19, 22, 20, 21, 18, 22];
    const velocity = compare('sales_velocity', t, c);
    expect(velocity.significant).toBe(true);
    expect(velocity.randomization.method).toBe('exact');
    expect(velocity.verdict).toMatch(/^Treatment raised sales velocity \(better\)/);
    const cycle = compare('sales_cycle_length', t, c);
    expect(cycle.verdict).toMatch(/^Treatment raised sales cycle length \(worse\)/);
  });

  it('compareKpiAsync (yields to the event loop) gives the identical result as compareKpi', async () => {
    const u = units([3, 5, 4, 6, 8, 7, 5], [2, 4, 3, 3, 5, 4, 2]);
    const opts = { ...OPTS, maxExact: 10, primaryMethod: 'randomization_inference_cuped' as const };
    const extras = { pre: [2, 4, 4, 5, 7, 6, 4, 2, 3, 3, 2, 5, 3, 2] };
    const sync = compareKpi('opportunities', 'primary', u.values, u.design, opts, extras);
    const async_ = await compareKpiAsync('opportunities', 'primary', u.values, u.design, opts, extras);
    expect(sync.randomization.method).toBe('monte_carlo');
    expect(async_).toEqual(sync);
  });

  it('the Monte Carlo stream is reproducible per pilot seed and KPI', () => {
    expect(randomizationSeed(42, 'win_rate')).toBe(randomizationSeed(42, 'win_rate'));
    expect(randomizationSeed(42, 'win_rate')).not.toBe(randomizationSeed(43, 'win_rate'));
    expect(randomizationSeed(42, 'win_rate')).not.toBe(randomizationSeed(42, 'revenue_won'));
  });
});

describe('adjustSecondary (Holm or BH over secondary and guardrail KPIs, input order)', () => {
  it('adjusts non-primary p-values by Holm and leaves the primary alone', () => {
    const base = compare('sales_velocity', [1, 2, 3, 4], [2, 3, 4, 5]);
    const withP = (kpi: KpiResult['kpi'], role: KpiResult['role'], p: number | null): KpiResult => ({
      ...base,
      kpi,
      role,
      randomization: { ...base.randomization, p_value: p },
      difference: { ...base.difference, p_value: p },
      primary: { ...base.primary, p_value: p },
    });
    const out = adjustSecondary(
      [
        withP('sales_velocity', 'primary', 0.01),
        withP('win_rate', 'secondary', 0.01),
        withP('revenue_won', 'secondary', 0.04),
        withP('opportunities', 'secondary', null),
        withP('open_deals', 'guardrail', 0.03),
      ],
      0.05,
    );
    // Holm by hand over [0.01, 0.04, 0.03]: sorted 0.01, 0.03, 0.04 → 0.03, 0.06, max(0.06, 0.04) = 0.06.
    expect(out[0].adjusted).toBeNull();
    expect(out[0].decision_p).toBe(base.randomization.p_value);
    expect(out[1].adjusted!.randomization_p).toBeCloseTo(0.03, 12);
    expect(out[2].adjusted!.randomization_p).toBeCloseTo(0.06, 12);
    expect(out[3].adjusted!.randomization_p).toBeNull();
    expect(out[4].adjusted!.randomization_p).toBeCloseTo(0.06, 12);
    expect(out.map((r) => r.decision_p)).toEqual([base.primary.p_value, out[1].adjusted!.primary_p, out[2].adjusted!.primary_p, null, out[4].adjusted!.primary_p]);
    expect(out[1].adjusted!.primary_p).toBeCloseTo(0.03, 12);
    // Benjamini–Hochberg on request, same order: [0.01, 0.04, 0.03] → [0.03, 0.04, 0.04].
    const bh = adjustSecondary(
      [withP('sales_velocity', 'primary', 0.01), withP('win_rate', 'secondary', 0.01), withP('revenue_won', 'secondary', 0.04), withP('open_deals', 'guardrail', 0.03)],
      0.05,
      'bh',
    );
    expect(bh.slice(1).map((r) => r.adjusted!.primary_p)).toEqual([0.03, 0.04, 0.04].map((v) => expect.closeTo(v, 12)));
    expect(bh[1].adjusted!.method).toBe('bh');
    expect(bh[1].verdict).toMatch(/Benjamini–Hochberg-adjusted/);
  });
});

describe('compareKpi: covariate adjustment, DiD, matched pairs, guardrails, several arms', () => {
  const t = [120, 135, 128, 150, 142, 131];
  const c = [100, 118, 109, 131, 120, 112];
  const preT = [110, 125, 119, 141, 133, 120];
  const preC = [101, 117, 110, 130, 122, 111];

  it('the recommended primary method (RI on the CUPED-adjusted KPI) decides, and its CI and p agree', () => {
    const u = units(t, c);
    const windowDays = { pre: 92, test: 92 };
    const r = compareKpi('revenue_won', 'primary', u.values, u.design, { ...OPTS, primaryMethod: 'randomization_inference_cuped' }, { pre: [...preT, ...preC], windowDays });
    // issue 16: the deciding estimate is Lin's interacted adjustment re-estimated per assignment, so its
    // point estimate is the regression block's (pooled-θ CUPED gives a different, biased number)
    expect(r.primary.method).toMatch(/Lin's interacted adjustment .*re-estimated for every re-drawn assignment/);
    expect(r.primary.estimate!).toBeCloseTo(r.methods.regression_adjustment!.estimate!, 9);
    expect(r.decision_p).toBe(r.primary.p_value);
    expect(r.methods.cuped!.theta!).toBeGreaterThan(0.5);
    expect(r.methods.cuped!.variance_reduction!).toBeGreaterThan(0.5);
    // The adjusted difference is far less noisy: 2 of C(12,6) = 924 assignments are as extreme.
    expect(r.primary.p_value!).toBeLessThan(r.randomization.p_value!);
    expect(r.primary.p_value! < 0.05).toBe(r.primary.ci_low! > 0 || r.primary.ci_high! < 0);
    expect(r.methods.regression_adjustment!.method).toBe('lin_interacted_ols_hc2');
    expect(r.methods.regression_adjustment!.df).toBe(12 - 4);
    // revenue won is a window total: the change score compares per-day rates (equal windows here)
    expect(r.methods.change_score!.estimate!).toBeCloseTo((mean6(t) - mean6(preT) - (mean6(c) - mean6(preC))) / 92, 9);
    expect(r.verdict).toMatch(/randomization inference \(Lin-adjusted for the pre-period KPI\) 95% CI of the difference/);
  });

  it('a territory without a pre-period value is never filled with 0: CUPED drops it, the regression imputes with an indicator, and the report says so', () => {
    const u = units(t, c);
    const pre = [null, ...preT.slice(1), ...preC];
    const r = compareKpi('revenue_won', 'primary', u.values, u.design, { ...OPTS, primaryMethod: 'randomization_inference_cuped' }, { pre });
    expect(r.pre_period).toMatchObject({ n_missing: 1 });
    expect(r.pre_period!.handling).toMatch(/dropped by CUPED.*mean-imputed with a missingness indicator.*never filled with 0/);
    const zero = compareKpi('revenue_won', 'primary', u.values, u.design, OPTS, { pre: pre.map((v) => v ?? 0) });
    expect(r.methods.cuped!.estimate).not.toBeCloseTo(zero.methods.cuped!.estimate!, 3);
  });

  it('without any pre-period value the CUPED primary falls back to the unadjusted randomization test, and says so', () => {
    const u = units(t, c);
    const r = compareKpi('revenue_won', 'primary', u.values, u.design, { ...OPTS, primaryMethod: 'randomization_inference_cuped' }, { pre: u.values.map(() => null) });
    expect(r.primary.method).toMatch(/no usable pre-period KPI, unadjusted/);
    expect(r.primary.p_value).toBe(r.randomization.p_value);
  });

  it('a pre-period KPI that predicts the KPI exactly makes the CUPED test degenerate: said so, never a zero-width CI', () => {
    // Each territory has 60 opportunities over both periods, so test = 60 − pre exactly (θ = −1).
    const preAll = [20, 25, 31, 28, 22, 35, 30, 27, 33, 24, 29, 26];
    const test = preAll.map((v) => 60 - v);
    const u = units(test.slice(0, 6), test.slice(6));
    const r = compareKpi('revenue_won', 'primary', u.values, u.design, { ...OPTS, primaryMethod: 'randomization_inference_cuped' }, { pre: preAll });
    expect(r.methods.cuped!.status).toBe('zero_variance');
    expect(r.methods.randomization_cuped!.status).toBe('zero_variance');
    expect(r.methods.randomization_cuped!.ci_low).toBeNull();
    expect(r.primary.method).toMatch(/CUPED-adjusted KPI is degenerate, unadjusted/);
    expect(r.primary.p_value).toBe(r.randomization.p_value);
    expect(r.primary.ci_high! - r.primary.ci_low!).toBeGreaterThan(1);
  });

  it('DiD on a complete weekly panel: the effect per territory-week, CR2 with Bell–McCaffrey df', () => {
    const u = units([1, 2, 3, 4], [1, 2, 3, 4]);
    const weekly = [
      { pre: [1, 0, 2], test: [3, 2, 4] },
      { pre: [0, 1, 1], test: [2, 3, 2] },
      { pre: [2, 2, 0], test: [3, 4, 3] },
      { pre: [1, 1, 1], test: [2, 3, 3] },
      { pre: [1, 0, 2], test: [1, 0, 2] },
      { pre: [0, 1, 1], test: [1, 1, 0] },
      { pre: [2, 2, 0], test: [2, 1, 1] },
      { pre: [1, 1, 1], test: [1, 1, 2] },
    ];
    const r = compareKpi('opportunities', 'secondary', u.values, u.design, OPTS, { weekly, weeklyUnit: 'opportunities per territory-week' });
    const d = r.methods.did_panel!;
    expect(d.status).toBe('ok');
    expect(d.unit).toBe('opportunities per territory-week');
    expect([d.weeks_pre, d.weeks_test]).toEqual([3, 3]);
    // by hand: treated weekly mean 34/12 after vs 12/12 before, control 13/12 vs 12/12 → (22 − 1)/12 = 1.75
    expect(d.estimate!).toBeCloseTo(1.75, 12);
    expect(d.df!).toBeCloseTo(6, 9); // balanced 4 vs 4: Bell–McCaffrey df = 2(n − 1)
    expect(d.ci_low!).toBeLessThan(d.estimate!);
  });

  it('matched pairs: paired t and Wilcoxon over the pairs (strata are pair ids)', () => {
    const values = [12, 10, 15, 15, 9, 8, 20, 17, 14, 12];
    const arms = ['treatment', 'control', 'treatment', 'control', 'control', 'treatment', 'treatment', 'control', 'treatment', 'control'];
    const strata = ['p1', 'p1', 'p2', 'p2', 'p3', 'p3', 'p4', 'p4', 'p5', 'p5'];
    const r = compareKpi('opportunities', 'primary', values, { arms, strata, treatmentArm: 'treatment', controlArm: 'control', designType: 'matched_pairs' }, OPTS);
    // pair differences: 2, 0, -1, 3, 2
    expect(r.methods.paired_t!.estimate!).toBeCloseTo(1.2, 12);
    expect(r.methods.paired_t!.df).toBe(4);
    expect(r.methods.wilcoxon_signed_rank!.p_method).toBe('exact');
    expect(r.methods.wilcoxon_signed_rank!.note).toMatch(/4 non-zero pair differences/);
  });

  it('a guardrail with a margin gets a one-sided non-inferiority test, adjusted over the guardrails with margins', () => {
    const u = units([30, 31, 29, 32, 30, 31], [30, 30, 31, 29, 31, 30]);
    const g = compareKpi('sales_cycle_length', 'guardrail', u.values, u.design, OPTS, { margin: { margin: 0.1, type: 'relative' } });
    expect(g.non_inferiority).toMatchObject({ method: 'non_inferiority_welch', margin: 0.1, margin_type: 'relative' });
    const [adj] = adjustSecondary([g], 0.05);
    expect(adj.non_inferiority!.adjusted_p).toBeCloseTo(g.non_inferiority!.p_value!, 15);
    expect(adj.non_inferiority!.non_inferior).toBe(true);
    expect(adj.verdict).toMatch(/Non-inferior within the relative margin 0.1/);
  });

  it('several treatment arms: each compared with control, the primary KPI adjusted across arms', () => {
    const values = [20, 21, 22, 23, 10, 11, 12, 13, 11, 12, 10, 13];
    const arms = [...Array(4).fill('b'), ...Array(4).fill('control'), ...Array(4).fill('a')];
    const strata = values.map(() => 'all');
    const results = ['b', 'a'].map((arm) =>
      compareKpi('revenue_won', 'primary', values, { arms, strata, treatmentArm: arm, controlArm: 'control' }, OPTS),
    );
    expect(results.map((r) => [r.treatment_arm, r.control_arm])).toEqual([
      ['b', 'control'],
      ['a', 'control'],
    ]);
    expect(results[0].difference.estimate).toBeCloseTo(10, 12);
    expect(results[1].difference.estimate).toBeCloseTo(0, 12);
    const adjusted = adjustSecondary(results, 0.05, 'holm');
    const raw = results.map((r) => r.primary.p_value!);
    const expectedHolm = raw[0] <= raw[1] ? [Math.min(1, 2 * raw[0]), Math.max(Math.min(1, 2 * raw[0]), raw[1])] : [Math.max(Math.min(1, 2 * raw[1]), raw[0]), Math.min(1, 2 * raw[1])];
    expect(adjusted.map((r) => r.decision_p)).toEqual(expectedHolm.map((v) => expect.closeTo(v, 12)));
    expect(adjusted[0].verdict).toMatch(/^b raised revenue won|No significant difference in revenue won \(\+[0-9.]+% b vs control/);
  });
});

function mean6(xs: number[]): number {
  return xs.reduce((s, v) => s + v, 0) / xs.length;
}
