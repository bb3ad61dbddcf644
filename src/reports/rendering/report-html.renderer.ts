/**
 * Renders a stored pilot report as one self-contained HTML page: inline CSS, charts as inline SVG
 * (charts.ts), no script, no external reference, so it opens offline and prints to PDF. Pure
 * apart from the chart rendering (async). Every section reads the report defensively: a part the
 * report lacks says "not available for this report" and the page still renders.
 */
import type { BalanceRow } from '../../stats/balance';
import { forestPlotData, kpisOf, velocityDecompositionData, weeklyChartData, type ReportData } from './chart-data';
import { forestPlotSpec, renderSvg, velocityDecompositionSpec, weeklySeriesSpec } from './charts';
import { amendmentsOf, completenessFindings, decisionSummary } from './decision-summary';
import { esc, fmtDifference, fmtDifferenceRange, fmtMoney, fmtP, fmtPct, fmtValue, num, unitLabel } from './format';
import { returnOnPilot } from './return-on-pilot';
import type { TopLevelSpec } from 'vega-lite';

/** The assignment as `GET /pilots/:id/assignment` returns it (the parts the page uses). */
export interface AssignmentView {
  units: { territory_code: string; name?: string | null; region?: string | null; stratum?: string | null; arm: string }[];
  balance?: { treatment_arm?: string; control_arm?: string; smd_rule?: string; rows?: BalanceRow[] } | null;
}

/** Everything the page shows. */
export interface ReportHtmlInput {
  report: ReportData;
  /** the report row: id, status and timestamps */
  meta: { report_id: string; pilot_id: string; status: string; requested_at?: Date | string | null; completed_at?: Date | string | null };
  /** the pilot's assignment with regions and balance (null when it could not be read) */
  assignment?: AssignmentView | null;
  /** the pilot's declared monthly cost, for reports that do not store it */
  monthlyCost?: number | null;
  /** links to the other formats of this report */
  links?: { json?: string; territoriesCsv?: string; kpisCsv?: string };
}

/** The page's sections in order: id and heading (the browser test checks each). */
export const SECTIONS = [
  { id: 'decision', title: 'Decision summary' },
  { id: 'return', title: 'Return on the pilot' },
  { id: 'kpis', title: 'KPI results' },
  { id: 'forest', title: 'Relative lift of every KPI' },
  { id: 'weekly', title: 'Primary KPI week by week' },
  { id: 'velocity', title: 'Sales velocity decomposition' },
  { id: 'balance', title: 'Balance of the arms' },
  { id: 'assignment', title: 'Assignment by region' },
  { id: 'completeness', title: 'Data completeness and open deals' },
  { id: 'details', title: 'Design and methods' },
] as const;

/** The charts the page draws (the browser test checks each). */
export const CHARTS = ['forest', 'weekly', 'velocity'] as const;

/** Text as a sentence: capital first letter, final full stop (empty for nothing). */
function sentence(text: unknown): string {
  if (typeof text !== 'string' || !text.trim()) return '';
  const t = text.trim();
  return `${t[0].toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

function notAvailable(what: string): string {
  return `<p class="na">Not available for this report: ${esc(what)}.</p>`;
}

function section(id: (typeof SECTIONS)[number]['id'], body: string): string {
  const title = SECTIONS.find((s) => s.id === id)!.title;
  return `<section id="${id}" data-section="${id}" aria-labelledby="${id}-h">\n<h2 id="${id}-h">${esc(title)}</h2>\n${body}\n</section>`;
}

async function chartFigure(name: (typeof CHARTS)[number], spec: TopLevelSpec, caption: string): Promise<string> {
  let svg: string;
  try {
    svg = await renderSvg(spec);
  } catch (err) {
    return notAvailable(`the ${name} chart could not be drawn (${(err as Error).message})`);
  }
  const description = typeof spec.description === 'string' ? spec.description : caption;
  const labelled = svg.replace(/^<svg\b/, `<svg role="img" aria-label="${esc(description)}"`);
  return `<figure class="chart" data-chart="${name}">\n${labelled}\n<figcaption>${caption}</figcaption>\n</figure>`;
}

/** The treatment arms of the report (several for a multi-arm pilot). */
function treatmentArms(report: ReportData): string[] {
  const list = (report.arms as unknown as { treatments?: unknown } | undefined)?.treatments;
  if (Array.isArray(list) && list.length) return list.map(String);
  return report.arms?.treatment ? [report.arms.treatment] : [];
}

function decisionSection(report: ReportData, input: ReportHtmlInput): string {
  const arms = treatmentArms(report);
  if (arms.length <= 1) return decisionBlock(report, input, undefined);
  return arms.map((arm) => `<h3>${esc(arm)} against ${esc(report.arms?.control ?? 'control')}</h3>\n${decisionBlock(report, input, arm)}`).join('\n');
}

function decisionBlock(report: ReportData, input: ReportHtmlInput, arm: string | undefined): string {
  const roi = returnOnPilot(report, input.monthlyCost, arm);
  const d = decisionSummary(report, roi, arm);
  const symbol = { ship: '✓', extend: '↻', stop: '✕' }[d.decision];
  const reasons = d.reasons
    .map((r) => `<li><strong>${esc(r.topic)}</strong> <span class="stance stance-${r.stance}">[${r.stance === 'for' ? 'supports shipping' : r.stance === 'against' ? 'against shipping' : 'neutral'}]</span>: ${esc(r.finding)}</li>`)
    .join('\n');
  return `<div class="decision decision-${d.decision}" role="status">
<p class="decision-word"><span aria-hidden="true">${symbol}</span> Decision: <strong>${d.decision.toUpperCase()}</strong></p>
<p class="headline">${esc(d.headline)}</p>
<p><strong>Confidence: ${esc(d.confidence)}.</strong> ${esc(d.confidence_reason)}</p>
</div>
<h4>Reasons</h4>
<ul class="reasons">
${reasons}
</ul>
${arm !== undefined && arm !== treatmentArms(report)[treatmentArms(report).length - 1] ? '' : `<details class="rule" open><summary>How this decision is made</summary>
<ol>
<li>Stop when a guardrail KPI is significantly worse (or fails its non-inferiority test), or when the primary KPI is significantly worse.</li>
<li>Ship when the primary KPI is significantly better and the test period is over.</li>
<li>Extend when the primary KPI is better but the test period is still running, or when it shows no significant difference and its estimate points the good way.</li>
<li>Stop when it shows no significant difference at the full readout and the estimate does not point the good way.</li>
<li>A scheduled interim look with an O'Brien–Fleming boundary may end the pilot early: ship when the primary KPI crossed the efficacy boundary, stop when the look recommends stopping for futility.</li>
<li>"Significant" uses each KPI's decision p (the recommended primary method; adjusted over the secondary and guardrail KPIs) at the pilot's α. Confidence starts high (p below α/5), moderate (below α) or low (inconclusive), and drops a level for each caveat: unplanned interim look, incomplete data, many deals still open, plan amendments.</li>
</ol>
</details>`}`;
}

function returnSection(report: ReportData, input: ReportHtmlInput): string {
  const arms = treatmentArms(report);
  if (arms.length <= 1) return returnBlock(report, input, undefined);
  return arms.map((arm) => `<h3>${esc(arm)}</h3>\n${returnBlock(report, input, arm)}`).join('\n');
}

function returnBlock(report: ReportData, input: ReportHtmlInput, arm: string | undefined): string {
  const roi = returnOnPilot(report, input.monthlyCost, arm);
  if (!roi) {
    const declared = num((report.pilot as unknown as Record<string, unknown> | undefined)?.monthly_cost) ?? num(input.monthlyCost);
    return notAvailable(declared === null ? 'the pilot declares no cost (the optional monthly_cost of the pilot)' : 'revenue won could not be compared between the arms');
  }
  const pct = Math.round(100 * roi.conf_level);
  const ci = (lo: number | null, hi: number | null, f: (x: number | null) => string) => (lo === null || hi === null ? '—' : `${f(lo)} to ${f(hi)}`);
  const money = (x: number | null) => fmtMoney(x, true);
  const pctf = (x: number | null) => fmtPct(x, 0);
  // a point estimate only with its interval (issue 14)
  const point = (v: { estimate: number; ci_low: number | null; ci_high: number | null }, f: (x: number | null) => string) => (v.ci_low === null || v.ci_high === null ? '— (no interval)' : f(v.estimate));
  return `<table class="numbers">
<caption>Incremental revenue won by the ${roi.n_treatment} treatment territories over the test period, against the cost of the treatment (${pct}% confidence intervals)</caption>
<thead><tr><th scope="col">Quantity</th><th scope="col">Estimate</th><th scope="col">${pct}% CI</th></tr></thead>
<tbody>
<tr><th scope="row">Cost: ${esc(fmtMoney(roi.monthly_cost))} per month × ${roi.months.toFixed(2)} months</th><td>${esc(fmtMoney(roi.cost))}</td><td>fixed</td></tr>
<tr><th scope="row">Incremental revenue won</th><td>${esc(point(roi.incremental_revenue, money))}</td><td>${esc(ci(roi.incremental_revenue.ci_low, roi.incremental_revenue.ci_high, money))}</td></tr>
<tr><th scope="row">Net (incremental revenue − cost)</th><td>${esc(point(roi.net, money))}</td><td>${esc(ci(roi.net.ci_low, roi.net.ci_high, money))}</td></tr>
<tr><th scope="row">Return on cost (net ÷ cost)</th><td>${esc(point(roi.return_on_cost, pctf))}</td><td>${esc(ci(roi.return_on_cost.ci_low, roi.return_on_cost.ci_high, pctf))}</td></tr>
</tbody>
</table>
${roi.warning ? `<p class="warning" role="note">${esc(roi.warning)}</p>\n` : ''}<p class="note">Incremental revenue = treatment territories × (mean revenue won per treatment territory − per control territory); its CI is the CI of that difference, scaled the same way. Source: ${esc(roi.source)}. Revenue, not margin; deals engaged in the test period and won by its end.</p>`;
}

function statusText(k: ReturnType<typeof kpisOf>[number]): string {
  if (k.status !== 'ok') return `no result (${String(k.status_reason ?? k.status).replace(/_/g, ' ')})`;
  if (k.significant === null || k.significant === undefined) return 'no decision p';
  if (!k.significant) return 'no significant difference';
  const est = num(k.difference?.estimate) ?? 0;
  const better = est > 0 === Boolean(k.higher_is_better);
  return `significant: ${est > 0 ? 'up' : 'down'}, ${better ? 'better' : 'worse'}`;
}

type Kpi = ReturnType<typeof kpisOf>[number];

/** The deciding method's block of a KPI (`primary`), or the Welch block of an older report. */
function deciding(k: Kpi): { method: string; estimate: number | null; ci_low: number | null; ci_high: number | null; p: number | null; note: string | null } {
  const p = (k as unknown as Record<string, unknown>).primary as Record<string, unknown> | undefined;
  if (p && typeof p === 'object' && typeof p.method === 'string') {
    return { method: p.method, estimate: num(p.estimate), ci_low: num(p.ci_low), ci_high: num(p.ci_high), p: num(p.p_value), note: typeof p.note === 'string' ? p.note : null };
  }
  const ri = k.randomization?.method ? `; decision p: randomization test (${k.randomization.method.replace('_', ' ')})` : '';
  return {
    method: `${k.difference?.method === 'welch_t' ? 'Welch t' : (k.difference?.method ?? '')}${ri}`,
    estimate: num(k.difference?.estimate),
    ci_low: num(k.difference?.ci_low),
    ci_high: num(k.difference?.ci_high),
    p: num(k.randomization?.p_value) ?? num(k.difference?.p_value),
    note: null,
  };
}

/** A method name for the page: stored keys such as `lin_interacted_ols_hc2` never reach the reader. */
function plainMethod(m: string): string {
  if (m.startsWith('lin_interacted_ols_hc2')) return "Lin's regression adjustment (HC2, n − k df)";
  if (m.startsWith('welch_t')) return `Welch t${m.slice('welch_t'.length)}`;
  return m.replace(/_/g, ' ');
}

function kpiSection(report: ReportData): string {
  const kpis = kpisOf(report);
  if (!kpis.length) return notAvailable('the report has no KPI results');
  const conf = num(kpis[0]?.difference?.conf_level) ?? 0.95;
  const pct = Math.round(100 * conf);
  const multiArm = treatmentArms(report).length > 1;
  const adjName = (report.multiple_testing as string | undefined) === 'bh' ? 'Benjamini–Hochberg' : 'Holm';
  const rows = kpis
    .map((k) => {
      const rl = k.relative_lift ?? ({} as typeof k.relative_lift);
      const d = deciding(k);
      const effectCi = d.ci_low !== null && d.ci_high !== null ? fmtDifferenceRange(d.ci_low, d.ci_high, k.unit) : 'no CI';
      const adjusted = k.adjusted ? (num((k.adjusted as unknown as Record<string, unknown>).primary_p) ?? num(k.adjusted.randomization_p)) : null;
      // the lift of the DECIDING method: its effect and CI as a share of the control mean (issue 14)
      const base = num(k.control?.mean);
      const rel = (x: number | null) => (x === null || base === null || !(base > 0) ? null : x / base);
      const lift = rel(d.estimate);
      const liftCi = rel(d.ci_low) !== null && rel(d.ci_high) !== null ? `${fmtPct(rel(d.ci_low))} to ${fmtPct(rel(d.ci_high))}` : '—';
      const raw = `${fmtDifference(k.difference?.estimate, k.unit)}${num(rl.estimate) !== null ? ` (${fmtPct(rl.estimate)})` : ''}`;
      const hc = (k.adjusted as unknown as { interval?: { conf_level: number; ci_low: number | null; ci_high: number | null } | null } | null)?.interval;
      const hcText = hc && hc.ci_low !== null && hc.ci_high !== null ? `Holm-consistent ${(100 * hc.conf_level).toFixed(1)}% CI ${fmtDifferenceRange(hc.ci_low, hc.ci_high, k.unit)}` : '';
      return `<tr data-kpi="${esc(k.kpi)}"${k.treatment_arm ? ` data-arm="${esc(k.treatment_arm)}"` : ''}>
<th scope="row">${esc(k.label)}${esc(unitLabel(k.unit))}</th>
<td>${esc(k.role)}</td>${multiArm ? `\n<td>${esc(k.treatment_arm ?? '')}</td>` : ''}
<td class="num">${esc(fmtValue(k.control?.mean, k.unit))} <span class="n">(n=${esc(k.control?.n_territories ?? '—')})</span></td>
<td class="num">${esc(fmtValue(k.treatment?.mean, k.unit))} <span class="n">(n=${esc(k.treatment?.n_territories ?? '—')})</span></td>
<td class="num">${esc(raw)}</td>
<td class="num">${esc(fmtDifference(d.estimate, k.unit))}<br><span class="n">${esc(effectCi)}</span></td>
<td class="num">${esc(lift === null ? '—' : fmtPct(lift))}<br><span class="n">${esc(liftCi)}</span></td>
<td class="num">${esc(fmtP(d.p))}</td>
<td class="num">${esc(k.adjusted ? fmtP(adjusted) : 'not adjusted (primary)')}${hcText ? `<br><span class="n">${esc(hcText)}</span>` : ''}</td>
<td>${esc(plainMethod(d.method))}${d.note ? `<br><span class="n">${esc(d.note)}</span>` : ''}</td>
<td>${esc(statusText(k))}</td>
</tr>`;
    })
    .join('\n');
  const verdicts = kpis.map((k) => `<li><strong>${esc(k.label)}${multiArm && k.treatment_arm ? ` (${esc(k.treatment_arm)})` : ''}</strong>: ${esc(k.verdict)}</li>`).join('\n');
  return `<div class="wide"><table class="kpi-table">
<caption>Every KPI, treatment against control: arm means over territories; the raw difference of the means (and the raw relative lift); the effect (treatment − control) and p of the deciding method with its ${pct}% CI, and the same effect and CI as a lift relative to the control mean; the ${esc(adjName)}-adjusted p${adjName === 'Holm' ? ' with the interval that agrees with it' : ''}</caption>
<thead><tr><th scope="col">KPI</th><th scope="col">Role</th>${multiArm ? '<th scope="col">Arm</th>' : ''}<th scope="col">Control mean</th><th scope="col">Treatment mean</th><th scope="col">Raw difference (raw lift)</th><th scope="col">Effect (${pct}% CI)</th><th scope="col">Lift (${pct}% CI)</th><th scope="col">p</th><th scope="col">Adjusted p (${esc(adjName)})</th><th scope="col">Method</th><th scope="col">Status</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
<p class="note">p: the deciding method's two-sided p-value, unadjusted. Adjusted p: over the secondary and guardrail KPIs (${esc(adjName)}); it decides for those KPIs, the unadjusted p decides for the primary KPI${multiArm ? ' (adjusted across the treatment arms)' : ''}. ${esc(sentence(report.multiplicity))} Every other method's numbers (Welch, CUPED, regression adjustment, difference in differences…) are in the JSON report and the CSV export.</p>
<h3>Verdicts</h3>
<ul>
${verdicts}
</ul>`;
}

async function forestSection(report: ReportData): Promise<string> {
  const { rows, omitted } = forestPlotData(report);
  if (!rows.length) return notAvailable('no KPI has a relative lift with a confidence interval');
  const conf = num(kpisOf(report)[0]?.difference?.conf_level) ?? 0.95;
  const left = omitted.length ? ` Not plotted: ${omitted.map((o) => `${esc(o.label)} (${esc(o.reason)})`).join(', ')}.` : '';
  return chartFigure(
    'forest',
    forestPlotSpec(rows, conf),
    `Relative lift of each KPI (treatment ÷ control − 1) with its ${Math.round(100 * conf)}% CI (delta method); the dashed line is no change. Marker shape gives the KPI's role; * marks a significant decision p.${left}`,
  );
}

async function weeklySection(report: ReportData): Promise<string> {
  const data = weeklyChartData(report);
  if (!data) return notAvailable('the weekly series (reports computed before it was stored have none; request a new report)');
  if (!data.points.length) return notAvailable(`weekly values of ${data.label} (no week has a value)`);
  const figure = await chartFigure(
    'weekly',
    weeklySeriesSpec(data),
    `Weekly ${esc(data.label)} per arm: ${esc(data.convention)}. Arms differ by line pattern and marker shape (${data.arms
      .map((a, i) => `${esc(a)}: ${['dashed, squares', 'solid, circles', 'dotted, triangles', 'dash-dot, diamonds'][i % 4]}`)
      .join('; ')}). Shaded: ${data.bands.map((b) => esc(b.label)).join(' and ')}.${data.gaps ? ` ${data.gaps} arm-week(s) without any value are gaps.` : ''}${
      data.partial_weeks ? ` ${data.partial_weeks} week(s) shorter than 7 days at the edges of the periods are left out.` : ''
    }`,
  );
  return `${figure}\n<p class="note">Late weeks of each period have had less time to close their deals, so win rate, revenue and velocity dip there in both arms; compare the arms, not the weeks.</p>`;
}

async function velocitySection(report: ReportData): Promise<string> {
  const d = velocityDecompositionData(report);
  if (!d) return notAvailable('the velocity components (no territory values in this report)');
  const ciOf = (lo: number | null, hi: number | null) =>
    lo === null || hi === null ? '—' : `${lo >= 0 ? '+' : '−'}${Math.abs(100 * lo).toFixed(1)} to ${hi >= 0 ? '+' : '−'}${Math.abs(100 * hi).toFixed(1)}`;
  const rows = d.components
    .map((c) => {
      const unit = c.component === 'win_rate' ? 'fraction 0..1' : '';
      const contribution = c.contribution === null ? '—' : `${c.contribution >= 0 ? '+' : '−'}${Math.abs(100 * c.contribution).toFixed(1)}`;
      return `<tr><th scope="row">${esc(c.label)}</th><td class="num">${esc(fmtValue(c.control, unit))}</td><td class="num">${esc(fmtValue(c.treatment, unit))}</td><td class="num">${
        c.ratio === null ? '—' : `×${c.ratio.toFixed(3)}`
      }</td><td class="num">${contribution}</td><td class="num">${esc(ciOf(c.ci_low, c.ci_high))}</td></tr>`;
    })
    .join('\n');
  const largest = d.components.find((c) => c.component === d.largest);
  const velocityText = d.velocity
    ? ` Pooled sales velocity changed by ${fmtPct(Math.exp(d.velocity.log_lift) - 1)}${
        d.velocity.ci_low !== null && d.velocity.ci_high !== null ? ` (CI ${fmtPct(Math.exp(d.velocity.ci_low) - 1)} to ${fmtPct(Math.exp(d.velocity.ci_high) - 1)})` : ''
      }.`
    : d.total !== null
      ? ` Together the components account for ${fmtPct(Math.exp(d.total) - 1)} in velocity.`
      : '';
  const summary = largest
    ? `<p>The component that moved most: <strong>${esc(largest.label)}</strong> (${largest.contribution! >= 0 ? 'speeds velocity up' : 'slows velocity down'} by about ${Math.abs(
        100 * largest.contribution!,
      ).toFixed(1)}%).${esc(velocityText)}</p>`
    : '';
  const pct = d.conf_level !== null ? `${Math.round(100 * d.conf_level)}% ` : '';
  const figure = d.components.some((c) => c.contribution !== null)
    ? await chartFigure(
        'velocity',
        velocityDecompositionSpec(d),
        `Contribution of each component to the change in sales velocity${d.treatment_arm ? ` (${esc(d.treatment_arm)} vs control)` : ''}, in log points (about %): bars right of 0 speed velocity up in treatment${
          d.components.some((c) => c.ci_low !== null) ? `; whiskers are ${pct}CIs` : ''
        }.`,
      )
    : notAvailable('the velocity decomposition chart (a component is undefined in an arm)');
  const km = report.sales_cycle_survival as unknown as { method?: string; cutoff?: string; arms?: Record<string, unknown>[]; log_rank?: Record<string, unknown>[] } | undefined;
  const kmTable =
    km && Array.isArray(km.arms) && km.arms.length
      ? `<table class="numbers"><caption>Time to close (days), deals engaged in the test period; open deals censored at ${esc(km.cutoff ?? 'the cut-off')} (${esc(km.method ?? 'Kaplan–Meier')})</caption>
<thead><tr><th scope="col">Arm</th><th scope="col">Deals</th><th scope="col">Closed</th><th scope="col">Still open (censored)</th><th scope="col">Median days (CI)</th></tr></thead>
<tbody>${km.arms
          .map(
            (a) =>
              `<tr><th scope="row">${esc(a.arm)}</th><td class="num">${esc(a.n)}</td><td class="num">${esc(a.events)}</td><td class="num">${esc(a.censored)}</td><td class="num">${esc(fmtValue(a.median_days))} (${esc(
                fmtValue(a.median_ci_low),
              )} to ${esc(fmtValue(a.median_ci_high))})</td></tr>`,
          )
          .join('')}</tbody></table>${
          Array.isArray(km.log_rank) && km.log_rank.length
            ? `<p class="note">Log-rank test: ${km.log_rank.map((l) => `${esc(l.treatment_arm)} vs ${esc(l.control_arm)} p ${esc(fmtP(l.p_value))}`).join('; ')}.</p>`
            : ''
        }`
      : '';
  return `${summary}
<table class="numbers">
<caption>Sales velocity = opportunities × win rate × average deal size ÷ sales cycle length; each component per arm (${esc(d.note)})</caption>
<thead><tr><th scope="col">Component</th><th scope="col">Control</th><th scope="col">Treatment</th><th scope="col">Ratio</th><th scope="col">Contribution (log points)</th><th scope="col">${pct}CI</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${figure}
${kmTable ? `<h3>Time to close</h3>\n${kmTable}` : ''}`;
}

function balanceSection(input: ReportHtmlInput): string {
  const b = input.assignment?.balance;
  const rows = Array.isArray(b?.rows) ? b!.rows : [];
  if (!rows.length) return notAvailable('the balance table (the assignment could not be read)');
  const body = rows
    .map(
      (r) => `<tr><th scope="row">${esc(r.covariate)}</th><td class="num">${esc(fmtValue(r.mean_control))}</td><td class="num">${esc(fmtValue(r.sd_control))}</td><td class="num">${esc(
        fmtValue(r.mean_treatment),
      )}</td><td class="num">${esc(fmtValue(r.sd_treatment))}</td><td class="num">${r.smd === null ? '—' : esc(r.smd.toFixed(3))}</td><td>${esc(r.rating ?? '—')}</td><td class="num">${esc(
        r.n_missing,
      )}</td></tr>`,
    )
    .join('\n');
  return `<table class="numbers">
<caption>Pre-launch covariates and the primary KPI's pre-period value per arm; standardized mean difference (SMD) ${esc(b?.smd_rule ?? '')}</caption>
<thead><tr><th scope="col">Covariate</th><th scope="col">Control mean</th><th scope="col">Control SD</th><th scope="col">Treatment mean</th><th scope="col">Treatment SD</th><th scope="col">SMD</th><th scope="col">Balance</th><th scope="col">Missing</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

function assignmentSection(report: ReportData, input: ReportHtmlInput): string {
  const units =
    input.assignment?.units ??
    (Array.isArray(report.territories) ? report.territories.map((t) => ({ territory_code: t.territory_code, region: null, stratum: t.stratum, arm: t.arm, name: null })) : []);
  if (!units.length) return notAvailable('the assignment');
  const controlArm = report.arms?.control ?? input.assignment?.balance?.control_arm ?? 'control';
  const groups = new Map<string, typeof units>();
  for (const u of units) {
    const g = u.region ?? u.stratum ?? 'no region';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(u);
  }
  const armCount = (list: typeof units, arm: string) => list.filter((u) => u.arm === arm).length;
  const arms = [...new Set(units.map((u) => u.arm))];
  const cards = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([region, list]) => {
      const items = [...list]
        .sort((a, b) => a.arm.localeCompare(b.arm) || a.territory_code.localeCompare(b.territory_code))
        .map((u) => {
          const isT = u.arm !== controlArm;
          return `<tr><th scope="row">${esc(u.name ?? u.territory_code)}</th><td><span class="arm ${isT ? 'arm-treatment' : 'arm-control'}">${isT ? '■' : '□'} ${esc(u.arm)}</span></td></tr>`;
        })
        .join('\n');
      return `<div class="region" data-region="${esc(region)}">
<h3>${esc(region)} <span class="n">(${arms.map((a) => `${armCount(list, a)} ${esc(a)}`).join(', ')})</span></h3>
<table><caption class="visually-hidden">Territories of ${esc(region)} and their arm</caption><thead><tr><th scope="col">Territory</th><th scope="col">Arm</th></tr></thead><tbody>
${items}
</tbody></table>
</div>`;
    })
    .join('\n');
  return `<p>${units.length} territories, ${arms.map((a) => `${armCount(units, a)} ${esc(a)}`).join(', ')}; grouped by ${input.assignment?.units ? 'region' : 'stratum'}. ■ marks a treatment arm, □ control.</p>
<div class="regions">
${cards}
</div>`;
}

function completenessSection(report: ReportData): string {
  const c = report.completeness;
  const o = report.open_opportunities;
  const cut = report.data_cutoff;
  if (!c && !o && !cut) return notAvailable('data completeness');
  const arms = ['control', 'treatment'] as const;
  const rows = arms
    .map(
      (a) => `<tr><th scope="row">${esc(report.arms?.[a] ?? a)}</th><td class="num">${esc(c?.[a]?.territories ?? '—')}</td><td class="num">${esc(
        c?.[a]?.territories_with_opportunities ?? '—',
      )}</td><td class="num">${esc(o?.[a]?.open_at_test_end ?? '—')}</td><td class="num">${esc(o?.[a]?.open_now ?? '—')}</td></tr>`,
    )
    .join('\n');
  const findings = completenessFindings(report);
  const dc = report.data_completeness as unknown as { state?: string; arms?: Record<string, unknown>[] } | undefined;
  const dcArms = Array.isArray(dc?.arms) ? dc!.arms : [];
  const extraTable = dcArms.length
    ? `<table class="numbers"><caption>Data completeness check of the analysis: ${esc(String(dc?.state ?? '—').replace(/_/g, ' '))}</caption>
<thead><tr><th scope="col">Arm</th><th scope="col">Territories by design</th><th scope="col">Territories reporting</th><th scope="col">Opportunities, test period</th><th scope="col">Opportunities, pre-period</th></tr></thead>
<tbody>${dcArms
        .map(
          (x) =>
            `<tr><th scope="row">${esc(x.arm)}</th><td class="num">${esc(x.designed_territories ?? '—')}</td><td class="num">${esc(x.territories_reporting ?? '—')}</td><td class="num">${esc(
              x.opportunities_test ?? '—',
            )}</td><td class="num">${esc(x.opportunities_pre ?? '—')}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const data = report.data as unknown as Record<string, unknown> | undefined;
  const dataRows = data
    ? `<dt>Data version read</dt><dd>${esc(data.data_version ?? '—')}${num(data.latest_data_version) !== null && data.latest_data_version !== data.data_version ? ` (newest: ${esc(data.latest_data_version)})` : ''}</dd>
<dt>As-of cut-off</dt><dd>${esc(data.as_of ?? 'none (all data)')}</dd>
<dt>Owners attributed on</dt><dd>${esc(data.attribution_date ?? '—')}</dd>`
    : '';
  return `<table class="numbers">
<caption>Territories with data in the test period, and deals still open</caption>
<thead><tr><th scope="col">Arm</th><th scope="col">Territories</th><th scope="col">With deals in the test period</th><th scope="col">Open at the end of the test period</th><th scope="col">Open now</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="note">Open at the end of the test period: deals engaged in the test period and not closed by ${esc(report.pilot?.test_period?.end ?? 'its end')} (they count as not won). Open now: every open deal of these territories, whatever its engage date.</p>
${findings.issues.length ? `<p><strong>Watch:</strong></p><ul>${findings.issues.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : '<p>No completeness issue found.</p>'}
${findings.notes.length ? `<ul>${findings.notes.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : ''}
${extraTable}
<dl class="meta">
${dataRows}
<dt>Data cut-off (last load)</dt><dd>${esc(cut?.ingested_at ?? '—')}</dd>
<dt>Latest engage or close date</dt><dd>${esc(cut?.latest_activity_date ?? '—')}</dd>
<dt>Opportunities of the pilot's territories</dt><dd>${esc(cut?.opportunities ?? '—')}</dd>
<dt>Readout</dt><dd>${report.readout?.test_period_complete === false ? esc(report.readout.note ?? 'interim look') : 'full readout: the test period is over'}</dd>
</dl>`;
}

function sequentialText(report: ReportData): string {
  const seq = report.sequential as unknown as Record<string, unknown> | null | undefined;
  if (!seq) return 'none planned';
  const planned = Array.isArray(seq.planned_looks) ? seq.planned_looks.length : 0;
  const taken = Array.isArray(seq.looks_taken) ? seq.looks_taken.length : 0;
  return `${planned} planned (O'Brien–Fleming boundaries), ${taken} taken; this report: ${String(seq.kind ?? '—')}${seq.note ? `. ${String(seq.note)}` : ''}`;
}

function detailsSection(report: ReportData): string {
  const d = report.design;
  const plan = report.plan as Record<string, unknown> | undefined;
  const planHash = (plan?.hash ?? plan?.plan_hash ?? report.plan_hash) as string | undefined;
  const planVersion = plan?.version !== undefined && plan?.version !== null ? `version ${String(plan.version)}${plan.locked_at ? `, locked ${String(plan.locked_at)}` : ''}: ` : '';
  const amendments = amendmentsOf(report);
  return `<dl class="meta">
<dt>Hypothesis</dt><dd>${esc(report.pilot?.hypothesis ?? '—')}</dd>
<dt>Treatment</dt><dd>${esc(report.pilot?.treatment_description ?? '—')}</dd>
<dt>Pre-period</dt><dd>${esc(report.pilot?.pre_period?.start ?? '—')} to ${esc(report.pilot?.pre_period?.end ?? '—')}</dd>
<dt>Test period</dt><dd>${esc(report.pilot?.test_period?.start ?? '—')} to ${esc(report.pilot?.test_period?.end ?? '—')}</dd>
<dt>Design</dt><dd>${esc(d?.type ?? '—')}${d?.stratify_by ? `, stratified by ${esc(d.stratify_by)}` : ''}; seed ${esc(d?.seed ?? '—')}; ${esc(d?.algorithm_version ?? '')}</dd>
<dt>Assignment inputs hash</dt><dd><code>${esc(d?.inputs_hash ?? '—')}</code></dd>
<dt>Analysis plan</dt><dd>${planHash ? `${esc(planVersion)}<code>${esc(planHash)}</code>` : 'no locked plan recorded in this report'}</dd>
<dt>Plan amendments</dt><dd>${amendments.length ? `<ul>${amendments.map((a) => `<li>${esc(a.at ?? '')} ${esc(a.summary)}</li>`).join('')}</ul>` : 'none recorded'}</dd>
<dt>Significance level α</dt><dd>${esc(report.pilot?.alpha ?? '—')}</dd>
<dt>Primary method</dt><dd>${esc((report.primary_method as unknown as { name?: string } | undefined)?.name ?? '—')}${
    (report.primary_method as unknown as { reason?: string } | undefined)?.reason ? ` <span class="n">(${esc((report.primary_method as unknown as { reason: string }).reason)})</span>` : ''
  }</dd>
<dt>Decision method</dt><dd>${esc(report.decision_method ?? '—')}</dd>
<dt>Interim looks</dt><dd>${esc(sequentialText(report))}</dd>
<dt>Multiplicity</dt><dd>${esc(report.multiplicity ?? '—')}</dd>
</dl>`;
}

const CSS = `
:root { --ink: #111; --muted: #555; --rule: #bbb; }
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1200px; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0.2rem 0; } h2 { font-size: 1.35rem; border-bottom: 2px solid var(--ink); padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 0.4rem; }
nav ol { columns: 2; padding-left: 1.2rem; } a { color: #0b4f8a; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.88rem; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { border: 1px solid var(--rule); padding: 0.3rem 0.45rem; vertical-align: top; text-align: left; }
thead th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.n { color: var(--muted); font-size: 0.85em; } .note { color: var(--muted); font-size: 0.88rem; max-width: 60rem; }
.na { font-style: italic; border-left: 4px solid var(--rule); padding-left: 0.6rem; }
.wide { overflow-x: auto; }
.decision { border: 3px solid var(--ink); padding: 0.6rem 1rem; max-width: 60rem; }
.decision-ship { border-style: solid; } .decision-extend { border-style: dashed; } .decision-stop { border-style: double; border-width: 6px; }
.decision-word { font-size: 1.5rem; margin: 0.2rem 0; } .headline { font-size: 1.1rem; }
.stance { font-size: 0.85em; color: var(--muted); }
.regions { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 0.8rem; }
.region { border: 1px solid var(--rule); padding: 0.3rem 0.7rem; } .region table { width: 100%; }
.arm { display: inline-block; padding: 0 0.4rem; border: 1px solid var(--ink); }
.arm-treatment { background: #1f4e79; color: #fff; border-style: solid; } .arm-control { background: #fff; border-style: dashed; }
figure.chart { margin: 0.5rem 0 1.2rem; } figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.88rem; color: var(--muted); max-width: 60rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; font-size: 0.92rem; } dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
.banner { border: 2px dashed var(--ink); padding: 0.5rem 0.8rem; font-weight: bold; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media print {
  @page { margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav, .exports { display: none; }
  h2 { break-after: avoid; } table, figure, .decision, .region { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

/**
 * The whole page for a completed report.
 * @returns an HTML5 document (UTF-8) with inline CSS and SVG, no script
 */
export async function renderReportHtml(input: ReportHtmlInput): Promise<string> {
  const report = input.report;
  const name = report.pilot?.name ?? 'Pilot';
  const [forest, weekly, velocity] = await Promise.all([forestSection(report), weeklySection(report), velocitySection(report)]);
  const links = input.links ?? {};
  const exportLinks = [
    links.kpisCsv ? `<li><a href="${esc(links.kpisCsv)}">KPI result table (CSV)</a></li>` : '',
    links.territoriesCsv ? `<li><a href="${esc(links.territoriesCsv)}">Territory KPI values per arm and period (CSV)</a></li>` : '',
    links.json ? `<li><a href="${esc(links.json)}">The full report (JSON)</a></li>` : '',
  ].join('');
  const body = [
    section('decision', decisionSection(report, input)),
    section('return', returnSection(report, input)),
    section('kpis', kpiSection(report)),
    section('forest', forest),
    section('weekly', weekly),
    section('velocity', velocity),
    section('balance', balanceSection(input)),
    section('assignment', assignmentSection(report, input)),
    section('completeness', completenessSection(report)),
    section('details', detailsSection(report)),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pilot report: ${esc(name)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<p class="n">PilotLab pilot report</p>
<h1>${esc(name)}</h1>
<dl class="meta">
<dt>Report</dt><dd><code>${esc(input.meta.report_id)}</code>, ${esc(input.meta.status)}, generated ${esc(report.generated_at ?? input.meta.completed_at ?? '—')}</dd>
<dt>Pilot</dt><dd><code>${esc(input.meta.pilot_id)}</code>, ${esc(report.pilot?.status ?? '—')}; primary KPI ${esc(kpisOf(report).find((k) => k.role === 'primary')?.label ?? report.pilot?.primary_kpi ?? '—')}</dd>
<dt>Test period</dt><dd>${esc(report.pilot?.test_period?.start ?? '—')} to ${esc(report.pilot?.test_period?.end ?? '—')}</dd>
</dl>
${report.readout?.test_period_complete === false ? `<p class="banner" role="note">${esc(report.readout.note ?? 'Interim look: the test period is still running.')}</p>` : ''}
<nav aria-label="Sections"><h2 class="visually-hidden">Contents</h2><ol>
${SECTIONS.map((s) => `<li><a href="#${s.id}">${esc(s.title)}</a></li>`).join('\n')}
</ol></nav>
</header>
<main>
${body}
</main>
<footer>
${exportLinks ? `<section class="exports" aria-label="Exports"><h2>Exports</h2><ul>${exportLinks}</ul></section>` : ''}
<p class="note">Charts are drawn on the server with Vega-Lite; the page has no script and needs no network.</p>
</footer>
</body>
</html>
`;
}

/** A short page for a report that is not completed yet (queued, running or failed). */
export function renderPendingHtml(meta: ReportHtmlInput['meta'] & { error?: string | null }): string {
  const text =
    meta.status === 'failed'
      ? `The report failed: ${meta.error ?? 'unknown error'}.`
      : `The report is ${meta.status}; reload this page in a moment.`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Pilot report ${esc(meta.report_id)}: ${esc(meta.status)}</title></head>
<body><main><h1>Pilot report ${esc(meta.status)}</h1><p data-status="${esc(meta.status)}">${esc(text)}</p></main></body></html>
`;
}
