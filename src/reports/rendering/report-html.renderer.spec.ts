import { CHARTS, renderPendingHtml, renderReportHtml, SECTIONS } from './report-html.renderer';
import { sampleReport } from './sample-report.fixture';
import { fragility } from '../../stats/few-cluster-diagnostics';
import { esc, fmtDifference, fmtDifferenceRange } from './format';
import type { DesignAnalysesResult } from '../comparison/design-analyses';

const meta = { report_id: '00000000-0000-4000-8000-000000000001', pilot_id: '00000000-0000-4000-8000-000000000002', status: 'completed' };
const assignment = {
  units: sampleReport().territories.map((t) => ({ territory_code: t.territory_code, name: t.territory_code, region: t.stratum, arm: t.arm })),
  balance: {
    treatment_arm: 'treatment',
    control_arm: 'control',
    smd_rule: '|SMD| < 0.1 good',
    rows: [
      { covariate: 'pre_won_revenue', n_treatment: 4, n_control: 4, n_missing_treatment: 0, n_missing_control: 0, n_missing: 0, mean_treatment: 5, mean_control: 4, sd_treatment: 1, sd_control: 1, smd: 0.31, rating: 'imbalanced' as const },
    ],
  },
};

function sectionHtml(html: string, id: string): string {
  const m = html.match(new RegExp(`<section id="${id}"[\\s\\S]*?</section>`));
  if (!m) throw new Error(`no section ${id}`);
  return m[0];
}

describe('renderReportHtml', () => {
  it('renders every section and chart in one page without script or external reference', async () => {
    const report = sampleReport();
    (report.pilot as any).monthly_cost = 1500;
    const html = await renderReportHtml({ report, meta, assignment, links: { kpisCsv: 'kpis.csv' } });
    for (const s of SECTIONS) expect(html).toContain(`<h2 id="${s.id}-h">${s.title}</h2>`);
    for (const c of CHARTS) expect(html).toMatch(new RegExp(`<figure class="chart" data-chart="${c}">\\s*<svg role="img" aria-label="[^"]+"`));
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).not.toContain('Not available');
    // HTML in names is escaped
    expect(html).toContain('<h1>Specialist &lt;pilot&gt; &amp; test</h1>');
  });

  it("shows the report's numbers in the KPI table and the decision", async () => {
    const report = sampleReport();
    const html = await renderReportHtml({ report, meta, assignment });
    const kpis = sectionHtml(html, 'kpis');
    const row = kpis.match(/<tr data-kpi="revenue_won"[^>]*>[\s\S]*?<\/tr>/)![0];
    expect(row).toContain('13,000');
    expect(row).toContain('16,000');
    expect(row).toContain('+10.0%'); // relative lift
    expect(row).toContain('+2,800'); // the deciding method's effect, its CI and p
    expect(row).toContain('−1,000 to +6,600');
    expect(row).toContain('0.1200');
    expect(row).toContain('0.3600'); // Holm-adjusted p of the deciding method
    expect(row).toContain("Lin&#39;s interacted adjustment");
    expect(row).toContain('no significant difference');
    expect(sectionHtml(html, 'decision')).toContain('Decision: <strong>EXTEND</strong>');
    expect(sectionHtml(html, 'assignment')).toMatch(/data-region="North"[\s\S]*Ben Ortiz[\s\S]*■ treatment/);
    expect(sectionHtml(html, 'balance')).toContain('0.310');
  });

  it('the lift column is the deciding method\'s effect over the control mean; the raw difference has its own column; no stored key as a method name', async () => {
    const report = sampleReport();
    const rev = report.kpis.find((k) => k.kpi === 'revenue_won')! as any;
    rev.adjusted.interval = { method: 'holm_consistent', conf_level: 1 - 0.05 / 3, ci_low: -1800, ci_high: 7400, note: '' };
    const html = await renderReportHtml({ report, meta, assignment });
    const row = sectionHtml(html, 'kpis').match(/<tr data-kpi="revenue_won"[^>]*>[\s\S]*?<\/tr>/)![0];
    const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]);
    expect(cells[3]).toContain('+3,000'); // raw difference of the means (Welch)
    expect(cells[3]).toContain('+10.0%'); // raw relative lift beside it
    expect(cells[4]).toContain('+2,800'); // deciding effect
    expect(cells[5]).toContain('+21.5%'); // 2,800 / 13,000
    expect(cells[5]).toContain('−7.7% to +50.8%'); // −1,000 / 13,000 to 6,600 / 13,000
    expect(cells[7]).toContain('Holm-consistent 98.3% CI −1,800 to +7,400');
    expect(row).not.toMatch(/lin_interacted|welch_t|too_little_data/);
  });

  it('says "not available" for parts the report lacks instead of failing', async () => {
    const report = sampleReport();
    delete (report as any).weekly_primary_kpi;
    report.territories = [];
    const html = await renderReportHtml({ report, meta, assignment: null });
    expect(sectionHtml(html, 'return')).toContain('Not available for this report: the pilot declares no cost');
    expect(sectionHtml(html, 'weekly')).toContain('Not available for this report');
    expect(sectionHtml(html, 'velocity')).toContain('Not available for this report');
    expect(sectionHtml(html, 'balance')).toContain('Not available for this report');
    expect(sectionHtml(html, 'forest')).toContain('data-chart="forest"');
  });

  it('issue 16: the forest plot caption names the relative-lift interval the report carries, not a fixed "delta method"', async () => {
    const report = sampleReport();
    const html = await renderReportHtml({ report, meta, assignment: null });
    expect(sectionHtml(html, 'forest')).toContain('Fieller');
    expect(sectionHtml(html, 'forest')).not.toContain('(delta method)');
  });

  it('with several treatment arms: a decision per arm, an arm column, arm names in the forest plot', async () => {
    const report = sampleReport();
    const b = report.kpis.map((k) => ({ ...JSON.parse(JSON.stringify(k)), treatment_arm: 'treatment_b' }));
    report.kpis.push(...b);
    (report.arms as any).treatments = ['treatment', 'treatment_b'];
    report.territories[1].arm = 'treatment_b';
    const units = assignment.units.map((u, i) => (i === 1 ? { ...u, arm: 'treatment_b' } : u));
    const html = await renderReportHtml({ report, meta, assignment: { ...assignment, units } });
    const decision = sectionHtml(html, 'decision');
    expect(decision).toContain('<h3>treatment against control</h3>');
    expect(decision).toContain('<h3>treatment_b against control</h3>');
    expect(decision.match(/Decision: <strong>/g)).toHaveLength(2);
    expect(sectionHtml(html, 'kpis')).toContain('<th scope="col">Arm</th>');
    expect(sectionHtml(html, 'forest')).toContain('Sales velocity (treatment_b)');
    expect(sectionHtml(html, 'assignment')).toMatch(/Ben Ortiz<\/th><td><span class="arm arm-treatment">■ treatment_b/);
  });

  it('renders even a nearly empty report', async () => {
    const html = await renderReportHtml({ report: {} as any, meta });
    for (const s of SECTIONS) expect(html).toContain(`id="${s.id}"`);
    expect(html.match(/Not available for this report/g)!.length).toBeGreaterThanOrEqual(6);
  });
});

/** The primary KPI's design analyses of the sample report (computed by designAnalyses in the fixture). */
function primaryAnalyses(report: ReturnType<typeof sampleReport>): DesignAnalysesResult {
  return (report.kpis.find((k) => k.role === 'primary') as any).design_analyses as DesignAnalysesResult;
}

describe('few-cluster diagnostics and robustness on the page (issue 14)', () => {
  it("shows the primary KPI's top-leverage territories, G* against G and the leave-one-territory-out range with the territory that moves it most", async () => {
    const report = sampleReport();
    const td = primaryAnalyses(report).territory_diagnostics!;
    const html = sectionHtml(await renderReportHtml({ report, meta, assignment }), 'diagnostics');
    const byLeverage = [...td.territories].sort((a, b) => b.partial_leverage - a.partial_leverage);
    const table = html.match(/<table class="numbers leverage"[\s\S]*?<\/table>/)![0];
    const names = [...table.matchAll(/<tr><th scope="row">([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(names).toEqual(byLeverage.slice(0, 3).map((t) => esc(t.territory)));
    for (const t of byLeverage.slice(0, 3)) {
      expect(table).toContain(`${(100 * t.partial_leverage).toFixed(1)}%`);
      expect(table).toContain(t.leverage.toFixed(2));
    }
    const gStar = td.effective_clusters ?? td.effective_clusters_independent!;
    expect(html).toContain(`G* = ${gStar.toFixed(1)} of G = ${td.clusters} territories`);
    const mover = [...td.territories].sort((a, b) => Math.abs(b.leave_one_out_estimate! - td.estimate) - Math.abs(a.leave_one_out_estimate! - td.estimate))[0];
    expect(html).toContain(esc(fmtDifferenceRange(td.leave_one_out_range!.low, td.leave_one_out_range!.high, 'currency per day')));
    expect(html).toContain(`leaving out ${esc(mover.territory)} moves it most, to ${esc(fmtDifference(mover.leave_one_out_estimate, 'currency per day'))}`);
    // the panel's territories are named by their codes, never by internal cluster labels
    expect(html).not.toMatch(/\bu[0-9]+\b/);
  });

  it('says in words whether the result is fragile and which methods disagree', async () => {
    const report = sampleReport();
    const da = primaryAnalyses(report);
    expect(da.fragility.fragile).toBe(true); // precondition: the fixture's methods fall on both sides of α
    let html = sectionHtml(await renderReportHtml({ report, meta, assignment }), 'diagnostics');
    const flag = html.match(/<p class="fragility[^"]*"[^>]*>([\s\S]*?)<\/p>/)![1];
    expect(flag).toContain('<strong>Fragile</strong>');
    const [yes, no] = flag.split('Not significant:');
    expect(yes).toContain('Significant:');
    for (const m of da.fragility.significant) expect(yes).toContain(esc(m));
    for (const m of da.fragility.not_significant) expect(no).toContain(esc(m));

    da.fragility = fragility([{ method: 'paired t on pair differences', p_value: 0.4 }, { method: 'cluster jackknife (CR3)', p_value: 0.6 }, { method: 'Welch t', p_value: null }], 0.05);
    html = sectionHtml(await renderReportHtml({ report, meta, assignment }), 'diagnostics');
    const flag2 = html.match(/<p class="fragility[^"]*"[^>]*>([\s\S]*?)<\/p>/)![1];
    expect(flag2).toContain('<strong>Not fragile</strong>');
    expect(flag2).toContain('all 2 methods with a p-value find no significant effect at α = 0.05');
    expect(flag2).toContain('Not computed for these data: Welch t.');
  });

  it("names the few-cluster method of the locked plan as deciding the panel, the other methods as robustness, and a naive row as never deciding", async () => {
    const report = sampleReport();
    const da = primaryAnalyses(report);
    const panel = da.panel!;
    panel.deciding_method = 'cr3_jackknife';
    panel.methods.forEach((m) => (m.deciding = m.method === 'cr3_jackknife'));
    da.rows.push({ key: 'welch_naive', label: 'Welch t (naive: ignores the design)', role: 'naive_comparison', estimate: 1, ci_low: 0, ci_high: 2, p_value: 0.04, note: null });
    const html = sectionHtml(await renderReportHtml({ report, meta, assignment }), 'diagnostics');
    const rowOf = (label: string) => html.match(new RegExp(`<tr><th scope="row">${esc(label).replace(/[()]/g, '\\$&')}</th>[\\s\\S]*?</tr>`))![0];
    expect(rowOf('cluster jackknife (CR3)')).toContain('decides the weekly panel (locked plan)');
    expect(rowOf('wild cluster bootstrap (null imposed)')).toContain('robustness');
    expect(rowOf('wild cluster bootstrap (null imposed)')).not.toContain('decides');
    expect(rowOf('Welch t (naive: ignores the design)')).toContain('naive comparison, never decides');
    expect(html).toContain('The locked analysis plan names the few-cluster method that decides the weekly-panel difference in differences: cluster jackknife (CR3)');
    // every panel row shows its own CI
    const cr3 = panel.methods.find((m) => m.method === 'cr3_jackknife')!;
    expect(rowOf('cluster jackknife (CR3)')).toContain(esc(fmtDifferenceRange(cr3.ci_low, cr3.ci_high)));
  });

  it('a report without design analyses says so; secondary KPIs with them get their own block', async () => {
    const report = sampleReport();
    const rev = report.kpis.find((k) => k.kpi === 'revenue_won') as any;
    rev.design_analyses = JSON.parse(JSON.stringify(primaryAnalyses(report)));
    let html = sectionHtml(await renderReportHtml({ report, meta, assignment }), 'diagnostics');
    expect(html.match(/<h3[^>]*>/g)).toHaveLength(2);
    expect(html).toMatch(/<h3[^>]*>Sales velocity \(primary\)<\/h3>[\s\S]*<h3[^>]*>Revenue won \(secondary\)<\/h3>/);
    for (const k of report.kpis) delete (k as any).design_analyses;
    html = sectionHtml(await renderReportHtml({ report, meta, assignment }), 'diagnostics');
    expect(html).toContain('Not available for this report');
  });
});

describe('a chosen design: donors left out of the pool (issue 12)', () => {
  const pool = {
    donors: ['C04', 'C05'],
    left_out: [
      { code: 'C03', reason: 'excluded' as const, detail: 'excluded by the pilot (design.constraints.exclude)' },
      { code: 'L01', reason: 'incomplete_pre_period' as const, detail: '9 of 13 pre-period weeks (2023-10-02 to 2023-11-27) lie before its first recorded opportunity', missing_weeks: ['2023-10-02'] },
      { code: 'R01', reason: 'reserved' as const, detail: "in running pilot(s) 'Other <pilot>': its KPI may be moved by that pilot", pilots: [{ pilot_id: 'p', name: 'Other <pilot>' }] },
    ],
    rules: 'donors = eligible territories that are not treated, minus …',
  };

  it('lists each left-out territory with why in words and its detail, escaped, and no stored code', async () => {
    const report = sampleReport();
    const html = sectionHtml(await renderReportHtml({ report, meta, assignment: { ...assignment, design: { type: 'chosen', donor_pool: pool } } }), 'assignment');
    expect(html).toContain('<caption>Eligible territories left out of the donor pool (2 donor territories remain)</caption>');
    expect(html).toMatch(/<tr data-left-out="C03"><th scope="row">C03<\/th><td>Excluded by the pilot<\/td><td>named in the pilot’s exclusions<\/td><\/tr>/);
    expect(html).toMatch(/data-left-out="L01"[\s\S]*Incomplete pre-period data<\/td><td>9 of 13 pre-period weeks \(2023-10-02 to 2023-11-27\)/);
    expect(html).toMatch(/data-left-out="R01"[\s\S]*Reserved by another running pilot<\/td><td>in running pilot\(s\) &#39;Other &lt;pilot&gt;&#39;/);
    expect(visibleText(html).match(SNAKE_CASE) ?? []).toEqual([]);
  });

  it("falls back to the report's copy of the donor pool, says when none was left out, and shows nothing for a randomized design", async () => {
    const report = sampleReport();
    (report.design as any).type = 'chosen';
    (report.design as any).donor_pool = pool;
    expect(sectionHtml(await renderReportHtml({ report, meta, assignment }), 'assignment')).toContain('data-left-out="R01"');
    (report.design as any).donor_pool = { ...pool, left_out: [] };
    expect(sectionHtml(await renderReportHtml({ report, meta, assignment }), 'assignment')).toContain('No eligible territory was left out of the donor pool (2 donor territories remain).');
    const randomized = sampleReport();
    expect(sectionHtml(await renderReportHtml({ report: randomized, meta, assignment }), 'assignment')).not.toMatch(/donor pool/);
  });
});

describe('data completeness caption', () => {
  it('is a sentence for every state of the check, never the state code', async () => {
    const seen = new Set<string>();
    for (const state of ['ok', 'mismatch', 'too_little_data']) {
      const report = sampleReport();
      (report as any).data_completeness = { state, arms: [{ arm: 'control', designed_territories: 4, territories_reporting: 4, opportunities_test: 30, opportunities_pre: 28 }], checks: [] };
      const html = sectionHtml(await renderReportHtml({ report, meta, assignment }), 'completeness');
      const caption = html.match(/<caption>Data completeness check[^<]*<\/caption>/)![0];
      expect(caption).not.toMatch(/too little data|mismatch|_|: ok\b/i);
      expect(caption).toMatch(/\.<\/caption>$/);
      seen.add(caption);
    }
    expect(seen.size).toBe(3);
  });
});

/**
 * The words a reader sees: tags, styles and attribute values removed, entities blanked; <code>
 * elements (identifiers the user supplied: report and pilot ids, territory attribute names) left out.
 */
function visibleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<code>[\s\S]*?<\/code>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/gi, ' ');
}
/** snake_case tokens (enum codes such as too_little_data, in_review, matched_pairs) in a text. */
const SNAKE_CASE = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g;

describe('user-facing text carries no enum codes', () => {
  it('the rendered report shows no snake_case code in its visible text, whatever the statuses', async () => {
    for (const status of ['in_review', 'running', 'concluded']) {
      const report = sampleReport();
      (report.pilot as any).status = status;
      (report.pilot as any).monthly_cost = 1500;
      const html = await renderReportHtml({ report, meta, assignment, links: { kpisCsv: 'kpis.csv' } });
      const text = visibleText(html);
      expect(text.length).toBeGreaterThan(1000);
      expect(text.match(SNAKE_CASE) ?? []).toEqual([]);
    }
  });
});

describe('renderPendingHtml', () => {
  it('names the status and, for a failed report, the error', () => {
    expect(renderPendingHtml({ ...meta, status: 'queued' })).toContain('The report is queued');
    expect(renderPendingHtml({ ...meta, status: 'failed', error: 'boom <x>' })).toContain('The report failed: boom &lt;x&gt;.');
  });
});
