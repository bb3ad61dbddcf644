import { readSharedData } from '../../../test/fixtures/shared-data';
import { decisionSummary } from '../rendering/decision-summary';
import type { ReportData } from '../rendering/chart-data';
import { KpiResult } from '../report.types';
import { adjustSecondary, compareKpi } from './kpi-comparison';

/**
 * Issue 16: a KPI that cannot be judged (status other than 'ok', e.g. one treated territory) carries
 * no decision p anywhere: not in its primary block, not as decision_p, not in the multiplicity
 * family, not in the decision summary.
 */
const OPTS = { alpha: 0.05, maxExact: 100_000, draws: 999, seed: 7 };

/** One treated territory, 30 controls: exact enumeration has 31 assignments, so p = 1/31 is attainable. */
function oneTreated(): { values: number[]; pre: number[]; units: { arms: string[]; strata: string[]; treatmentArm: string; controlArm: string } } {
  const control = Array.from({ length: 30 }, (_, i) => 100 + ((i * 37) % 23) - 11 + (i % 3));
  const values = [40, ...control];
  const pre = values.map((v, i) => (i === 0 ? 98 : v * 0.95 + ((i * 13) % 5)));
  return {
    values,
    pre,
    units: { arms: ['treatment', ...control.map(() => 'control')], strata: values.map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control' },
  };
}

function expectNoDecision(r: KpiResult): void {
  expect(r.status).not.toBe('ok');
  expect(r.verdict).toMatch(/^Cannot judge/);
  expect(r.primary.status).toBe(r.status);
  expect(r.primary.p_value).toBeNull();
  expect(r.primary.ci_low).toBeNull();
  expect(r.primary.ci_high).toBeNull();
  expect(r.primary.note).toMatch(/not used for a decision/);
  expect(r.primary_intervals ?? null).toBeNull();
  expect(r.decision_p).toBeNull();
  expect(r.significant).toBeNull();
}

describe('a KPI that cannot be judged carries no decision p (issue 16)', () => {
  const f = oneTreated();

  it.each(['randomization_inference', 'randomization_inference_cuped', 'lin_regression_hc2'] as const)(
    'one treated territory, primary method %s: insufficient_data, and neither the primary block nor decision_p holds a p',
    (primaryMethod) => {
      const r = compareKpi('revenue_won', 'primary', f.values, f.units, { ...OPTS, primaryMethod }, { pre: f.pre });
      expect(r.status).toBe('insufficient_data');
      expectNoDecision(r);
      // the unadjusted randomization test still describes the data (1 of 31 assignments is as extreme)
      expect(r.randomization.n_assignments).toBe(31);
    },
  );

  it('in a family: the undecidable KPI enters no adjustment, and the decision summary quotes no p for it', () => {
    const judged = (kpi: 'win_rate' | 'opportunities', shift: number) => {
      const t = [12, 15, 13, 16, 14, 15].map((v) => v + shift);
      const c = [10, 12, 9, 11, 13, 12];
      const units = { arms: [...t.map(() => 'treatment'), ...c.map(() => 'control')], strata: [...t, ...c].map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control' };
      return compareKpi(kpi, 'secondary', [...t, ...c], units, OPTS);
    };
    const primary = compareKpi('revenue_won', 'primary', f.values, f.units, { ...OPTS, intervalAlphas: [0.05, 0.025] });
    const secondary = compareKpi('sales_velocity', 'secondary', f.values, f.units, { ...OPTS, intervalAlphas: [0.05, 0.025] });
    const others = [judged('opportunities', 0), judged('win_rate', 1)];
    const adjusted = adjustSecondary([primary, secondary, ...others], 0.05);
    expectNoDecision(adjusted[0]);
    expectNoDecision(adjusted[1]);
    expect(adjusted[1].adjusted).toMatchObject({ primary_p: null, randomization_p: null, welch_p: null, interval: null });
    // Holm over the two judged KPIs only: the smaller p is doubled, not tripled
    const ps = others.map((r) => r.primary.p_value!);
    const smaller = ps.indexOf(Math.min(...ps));
    expect(adjusted[2 + smaller].adjusted!.primary_p).toBeCloseTo(Math.min(1, 2 * ps[smaller]), 12);

    const report = { pilot: { alpha: 0.05 }, readout: { test_period_complete: true }, kpis: adjusted } as unknown as ReportData;
    const summary = decisionSummary(report);
    const primaryReason = summary.reasons.find((x) => x.topic === 'primary KPI')!;
    expect(summary.headline).toMatch(/has no result/);
    expect(primaryReason.finding).not.toMatch(/decision p/);
    expect(summary.confidence).toBe('low');
  });
});

/** Per-state means of packs per capita before (1970–1988) and after (1989–2000) Proposition 99. */
function prop99(): { states: string[]; pre: number[]; post: number[]; treated: string } {
  const rows = readSharedData('california-prop99/california_prop99.csv').trim().split('\n').slice(1).map((l) => l.split(';'));
  const acc = new Map<string, { pre: number[]; post: number[]; treated: boolean }>();
  for (const [state, year, packs, treated] of rows) {
    const a = acc.get(state) ?? { pre: [], post: [], treated: false };
    (Number(year) >= 1989 ? a.post : a.pre).push(Number(packs));
    if (treated === '1') a.treated = true;
    acc.set(state, a);
  }
  const states = [...acc.keys()];
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
  return { states, pre: states.map((s) => mean(acc.get(s)!.pre)), post: states.map((s) => mean(acc.get(s)!.post)), treated: states.find((s) => acc.get(s)!.treated)! };
}

describe('California Proposition 99 (../shared/data, one treated state of 39): cannot be judged, so no decision p (issue 16)', () => {
  it('compareKpi on the per-state mean packs 1989–2000 with the 1970–1988 mean as pre-period KPI', () => {
    const d = prop99();
    expect(d.states).toHaveLength(39);
    expect(d.treated).toBe('California');
    const arms = d.states.map((s) => (s === d.treated ? 'treatment' : 'control'));
    const units = { arms, strata: arms.map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control' };
    for (const primaryMethod of ['randomization_inference', 'randomization_inference_cuped'] as const) {
      const r = adjustSecondary([compareKpi('revenue_won', 'primary', d.post, units, { ...OPTS, primaryMethod }, { pre: d.pre })], 0.05)[0];
      expect(r.status).toBe('insufficient_data');
      expect(r.randomization.n_assignments).toBe(39);
      expectNoDecision(r);
    }
  });
});
