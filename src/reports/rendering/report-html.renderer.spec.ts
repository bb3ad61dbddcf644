import { CHARTS, renderPendingHtml, renderReportHtml, SECTIONS } from './report-html.renderer';
import { sampleReport } from './sample-report.fixture';

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

describe('renderPendingHtml', () => {
  it('names the status and, for a failed report, the error', () => {
    expect(renderPendingHtml({ ...meta, status: 'queued' })).toContain('The report is queued');
    expect(renderPendingHtml({ ...meta, status: 'failed', error: 'boom <x>' })).toContain('The report failed: boom &lt;x&gt;.');
  });
});
