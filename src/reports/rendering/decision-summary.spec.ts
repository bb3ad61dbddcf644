import { decisionSummary } from './decision-summary';
import { returnOnPilot } from './return-on-pilot';
import { renderReportHtml } from './report-html.renderer';
import { welchTTest } from '../../stats/welch';
import { sampleReport } from './sample-report.fixture';
import type { ReportData } from './chart-data';

function withPrimary(over: Record<string, unknown>, report: ReportData = sampleReport()): ReportData {
  Object.assign(report.kpis[0], over);
  return report;
}
const base = sampleReport().kpis[0] as any;
const better = { significant: true, decision_p: 0.004, difference: { ...base.difference, estimate: 10 }, primary: { ...base.primary, estimate: 10 } };
const worse = { ...better, difference: { ...base.difference, estimate: -10 }, primary: { ...base.primary, estimate: -10 } };

describe('decisionSummary', () => {
  it('ships a significantly better primary KPI at the full readout, with high confidence when p < α/5', () => {
    const d = decisionSummary(withPrimary(better));
    expect(d.decision).toBe('ship');
    expect(d.confidence).toBe('high');
    expect(d.reasons.map((r) => r.topic)).toEqual(['primary KPI', 'guardrails', 'data completeness', 'plan amendments']);
    expect(d.reasons[0].stance).toBe('for');
  });

  it('moderate confidence when α/5 ≤ p < α', () => {
    expect(decisionSummary(withPrimary({ ...better, decision_p: 0.03 })).confidence).toBe('moderate');
  });

  it('stops when a guardrail is significantly worse, even with a better primary KPI', () => {
    const r = withPrimary(better);
    Object.assign(r.kpis.find((k) => k.kpi === 'open_deals')!, { significant: true });
    const d = decisionSummary(r);
    expect(d.decision).toBe('stop');
    expect(d.headline).toMatch(/guardrail/);
    expect(d.reasons.find((x) => x.topic === 'guardrails')!.stance).toBe('against');
    // the lift quoted here is the ratio of the raw arm means (not the deciding method's effect shown in the KPI table): say which
    expect(d.reasons.find((x) => x.topic === 'guardrails')!.finding).toMatch(/lift of the raw arm means/);
  });

  it('stops on a guardrail that fails its non-inferiority test', () => {
    const r = withPrimary(better);
    Object.assign(r.kpis.find((k) => k.kpi === 'open_deals')!, { non_inferiority: { margin: 0.1, non_inferior: false } });
    expect(decisionSummary(r).decision).toBe('stop');
  });

  it('stops when the primary KPI is significantly worse', () => {
    const d = decisionSummary(withPrimary(worse));
    expect(d.decision).toBe('stop');
  });

  it('names the deciding estimate in the headline (it may differ in sign from the raw lift)', () => {
    const r = withPrimary({ relative_lift: { ...base.relative_lift, estimate: -0.17 } });
    const d = decisionSummary(r);
    expect(d.decision).toBe('extend');
    expect(d.headline).toContain("deciding method's estimate (+9.00 per day, Lin-adjusted randomization inference) points the good way");
    expect(d.reasons[0].finding).toContain('relative lift of the raw arm means −17.0%');
  });

  it('extends an inconclusive result whose estimate points the good way; stops one pointing the bad way', () => {
    expect(decisionSummary(sampleReport()).decision).toBe('extend');
    expect(decisionSummary(sampleReport()).confidence).toBe('low');
    const bad = withPrimary({ primary: { ...base.primary, estimate: -3 } });
    expect(decisionSummary(bad).decision).toBe('stop');
  });

  it('extends a better primary KPI during an interim look, and the caveat lowers the confidence', () => {
    const r = withPrimary(better);
    r.readout = { test_period_complete: false, note: 'Interim look.' };
    const d = decisionSummary(r);
    expect(d.decision).toBe('extend');
    expect(d.confidence).toBe('moderate');
    expect(d.caveats).toContain('interim look: the test period is still running');
  });

  it('names territories without deals, many open deals and plan amendments as caveats', () => {
    const r = withPrimary(better);
    r.completeness.treatment.territories_with_opportunities = 3;
    r.open_opportunities.control.open_at_test_end = 60; // of 20 + 22 + 24 + 26 = 92 engaged
    (r as any).plan = { hash: 'x', amendments: [{ amended_at: '2024-02-20', summary: 'guardrail margin widened' }] };
    const d = decisionSummary(r);
    expect(d.decision).toBe('ship');
    expect(d.confidence).toBe('low');
    const text = d.reasons.map((x) => x.finding).join(' ');
    expect(text).toContain('1 of 4 treatment territories have no deal');
    expect(text).toMatch(/60 of 92 control deals .* still open/);
    expect(text).toContain('guardrail margin widened');
  });

  it('many deals still open at readout is its own caveat, not incomplete data, when every completeness check passes', async () => {
    const r = sampleReport();
    r.open_opportunities.control.open_at_test_end = 60; // of 92 engaged: above the 20% caveat
    (r as any).data_completeness = { state: 'ok', arms: [], checks: [{ what: 'territories reporting per arm', state: 'ok', note: 'territories reporting per arm: consistent with the expected ratio (exact p = 1.0000).' }] };
    const d = decisionSummary(r);
    expect(d.caveats).toEqual(['many deals still open at readout']);
    expect(d.confidence_reason).toBe('Low: the primary KPI result is inconclusive; lowered for: many deals still open at readout.');
    expect(d.reasons.find((x) => x.topic === 'data completeness')!.stance).toBe('for');
    const open = d.reasons.find((x) => x.topic === 'open deals')!;
    expect(open.stance).toBe('against');
    expect(open.finding).toMatch(/60 of 92 control deals .* still open/);
    const html = await renderReportHtml({ report: r, meta: { report_id: 'r', created_at: '2024-03-04T00:00:00Z' } as any, assignment: null as any });
    expect(html).not.toContain('incomplete data.');
    expect(html).toContain('lowered for: many deals still open at readout.');
  });

  it("judges the direction by the deciding method's estimate, not by the Welch difference", () => {
    const r = withPrimary({ ...better, difference: { ...base.difference, estimate: -1 } });
    expect(decisionSummary(r).decision).toBe('ship');
  });

  it('a scheduled interim look that crosses the efficacy boundary ships early; one recommending futility stops', () => {
    const r = withPrimary(better);
    r.readout = { test_period_complete: false, note: 'Interim look.' };
    (r as any).sequential = { kind: 'interim', look_number: 1, current: { information_fraction: 0.5, z_boundary: 2.96, z: 3.2, crosses: true, recommendation: 'stop_for_efficacy', reason: 'z beyond the boundary' } };
    const d = decisionSummary(r);
    expect(d.decision).toBe('ship');
    expect(d.caveats).toEqual([]);
    expect(d.reasons.map((x) => x.finding).join(' ')).toContain("O'Brien–Fleming boundary ±2.96");
    (r as any).sequential.current = { ...(r as any).sequential.current, z: 0.1, crosses: false, recommendation: 'stop_for_futility' };
    Object.assign(r.kpis[0], { significant: false });
    expect(decisionSummary(r).decision).toBe('stop');
  });

  it('with several treatment arms, decides each arm on its own comparisons', () => {
    const r = withPrimary(better);
    const other = { ...JSON.parse(JSON.stringify(r.kpis[0])), treatment_arm: 'treatment_b', ...worse };
    r.kpis.push(other);
    (r.arms as any).treatments = ['treatment', 'treatment_b'];
    expect(decisionSummary(r, null, 'treatment').decision).toBe('ship');
    expect(decisionSummary(r, null, 'treatment_b').decision).toBe('stop');
  });

  it("reads the analysis' data-completeness checks, contamination and the governance amendments", () => {
    const r = withPrimary(better);
    (r as any).data_completeness = { state: 'mismatch', arms: [], checks: [{ what: 'territories reporting per arm', state: 'mismatch', note: 'territories reporting per arm: the split differs (chi-square p = 0.0002)' }] };
    (r as any).data = { contamination: { treatment: { opportunities: 12, owners: 2 }, control: { opportunities: 0, owners: 0 } } };
    (r as any).plan = { version: 2, hash: 'h', amendments: [{ version: 2, reason: 'margin corrected', approved_at: '2024-02-20T00:00:00Z', changes: [{ field: 'guardrail_margins', before: 0.1, after: 0.2 }] }] };
    const text = decisionSummary(r).reasons.map((x) => x.finding).join(' ');
    expect(text).toContain('territories reporting per arm: the split differs (chi-square p = 0.0002)');
    expect(text).not.toContain('territories reporting per arm: territories reporting per arm'); // the label once
    expect(text).toContain('12 test-period deals of arm treatment (2 owners)');
    expect(text).toContain('version 2: margin corrected (changed: guardrail_margins)');
  });

  it('a report without KPI results still gets a decision (stop) instead of an exception', () => {
    const d = decisionSummary({ readout: { test_period_complete: true, note: null } } as any);
    expect(d.decision).toBe('stop');
    expect(d.headline).toMatch(/no primary KPI/);
  });
});

describe('returnOnPilot', () => {
  it('is null without a declared cost', () => {
    expect(returnOnPilot(sampleReport())).toBeNull();
  });

  it("scales the revenue-won effect of the deciding method and its CI by the treatment territories and sets it against the period's cost", () => {
    const r = sampleReport();
    (r.pilot as any).monthly_cost = 2000;
    const roi = returnOnPilot(r)!;
    const months = 28 / (365.25 / 12); // 2024-02-05..2024-03-03
    expect(roi.months).toBeCloseTo(months, 12);
    expect(roi.cost).toBeCloseTo(2000 * months, 9);
    // primary: estimate 2800, CI -1000..6600 per territory; 4 treatment territories
    expect(roi.incremental_revenue).toEqual({ estimate: 4 * 2800, ci_low: 4 * -1000, ci_high: 4 * 6600 });
    expect(roi.net.estimate).toBeCloseTo(11200 - roi.cost, 9);
    expect(roi.return_on_cost.ci_low).toBeCloseTo((-4000 - roi.cost) / roi.cost, 12);
    expect(roi.return_on_cost.ci_high).toBeCloseTo((26400 - roi.cost) / roi.cost, 12);
    expect(roi.source).toContain('deciding method');
  });

  it('an older report without the deciding method uses the Welch difference of revenue won', () => {
    const r = sampleReport();
    delete (r.kpis.find((k) => k.kpi === 'revenue_won') as any).primary;
    const roi = returnOnPilot(r, 2000)!;
    expect(roi.incremental_revenue).toEqual({ estimate: 4 * 3000, ci_low: 4 * -1500, ci_high: 4 * 7500 });
  });

  it("without a revenue-won KPI, runs Welch on the report's territory values", () => {
    const r = sampleReport();
    r.kpis = r.kpis.filter((k) => k.kpi !== 'revenue_won');
    const roi = returnOnPilot(r, 1000)!;
    const values = (arm: string) => r.territories.filter((t) => t.arm === arm).map((t) => t.kpis.revenue_won!);
    const w = welchTTest(values('treatment'), values('control'));
    expect(roi.incremental_revenue.estimate).toBeCloseTo(4 * w.diff!, 9);
    expect(roi.incremental_revenue.ci_low).toBeCloseTo(4 * w.ci_low!, 9);
    expect(roi.source).toMatch(/Welch t on the territories/);
  });

  it('warns when the revenue-won effect is not significant, and never shows a point estimate without its interval', async () => {
    const r = sampleReport();
    (r.pilot as any).monthly_cost = 2000;
    const roi = returnOnPilot(r)!;
    expect(roi.lift_significant).toBe(false);
    expect(roi.warning).toMatch(/not significant/);
    expect(roi.warning).not.toMatch(/_/);
    const html = await renderReportHtml({ report: r, meta: { report_id: 'r', created_at: '2024-03-04T00:00:00Z' } as any, assignment: null as any });
    const ret = html.match(/<section id="return"[\s\S]*?<\/section>/)![0];
    expect(ret).toContain('not significant');
    const sig = sampleReport();
    (sig.pilot as any).monthly_cost = 2000;
    (sig.kpis.find((k) => k.kpi === 'revenue_won') as any).significant = true;
    expect(returnOnPilot(sig)!.warning).toBeNull();
    const noCi = sampleReport();
    (noCi.pilot as any).monthly_cost = 2000;
    Object.assign((noCi.kpis.find((k) => k.kpi === 'revenue_won') as any).primary, { ci_low: null, ci_high: null });
    expect(returnOnPilot(noCi)!.warning).toMatch(/no confidence interval/);
    const html2 = await renderReportHtml({ report: noCi, meta: { report_id: 'r', created_at: '2024-03-04T00:00:00Z' } as any, assignment: null as any });
    expect(html2.match(/<section id="return"[\s\S]*?<\/section>/)![0]).toContain('— (no interval)');
  });

  it('a cost of 0 or a negative cost gives null', () => {
    expect(returnOnPilot(sampleReport(), 0)).toBeNull();
    expect(returnOnPilot(sampleReport(), -5)).toBeNull();
  });
});
