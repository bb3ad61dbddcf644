/** The chart sections of the report page: forest plot, weekly series and velocity decomposition (inline SVG). */
import { forestPlotData, kpisOf, liftIntervalName, velocityDecompositionData, weeklyChartData, type ReportData } from './chart-data';
import { fewTreatedSpec, forestPlotSpec, renderSvg, velocityDecompositionSpec, weeklySeriesSpec } from './charts';
import { esc, fmtP, fmtPct, fmtValue, num } from './format';
import { notAvailable, type CHARTS } from './report-html.helpers';
import type { TopLevelSpec } from 'vega-lite';

async function chartFigure(name: (typeof CHARTS)[number] | 'few_treated', spec: TopLevelSpec, caption: string): Promise<string> {
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

/** The forest plot of every KPI's relative lift with its CI. */
export async function forestSection(report: ReportData): Promise<string> {
  const { rows, omitted } = forestPlotData(report);
  if (!rows.length) return notAvailable('no KPI has a relative lift with a confidence interval');
  const conf = num(kpisOf(report)[0]?.difference?.conf_level) ?? 0.95;
  const left = omitted.length ? ` Not plotted: ${omitted.map((o) => `${esc(o.label)} (${esc(o.reason)})`).join(', ')}.` : '';
  const intervals = [...new Set(rows.map((r) => liftIntervalName(r.method)))].map(esc).join('; ');
  return chartFigure(
    'forest',
    forestPlotSpec(rows, conf),
    `Relative lift of each KPI (treatment ÷ control − 1) with its ${Math.round(100 * conf)}% CI (${intervals}); the dashed line is no change. Marker shape gives the KPI's role; * marks a significant decision p.${left}`,
  );
}

/** The primary KPI week by week per arm. */
export async function weeklySection(report: ReportData): Promise<string> {
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

/** The sales velocity decomposition: table, chart and the time-to-close table. */
export async function velocitySection(report: ReportData): Promise<string> {
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

/**
 * A chosen (few-treated) pilot's primary KPI: the treated territories against their synthetic
 * counterfactual, the weekly gap with the donors' placebo gaps in grey, the three estimates with their
 * placebo-randomization CIs and p, the permutation p (a diagnostic), and the top donor weights. Empty for randomized designs.
 */
export async function fewTreatedSection(report: ReportData): Promise<string> {
  const k = kpisOf(report).find((x) => x.role === 'primary') as any;
  const ft = k?.few_treated;
  if (!ft) return '';
  if (ft.status !== 'ok' || !ft.result) return `<h3>Synthetic counterfactual</h3>${notAvailable(`the few-treated analysis (${esc(ft.note ?? 'no result')})`)}`;
  const r = ft.result;
  const dec = r.estimates.find((e: any) => e.estimator === ft.deciding_estimator);
  const figure = await chartFigure(
    'few_treated',
    fewTreatedSpec({ label: String(k.label), estimator: String(ft.deciding_estimator).toUpperCase(), pre_weeks: r.pre_weeks, series: dec.series, placebo_gaps: dec.placebo_gaps }),
    `Top: weekly ${esc(k.label)} of the treated territories (${esc(r.treated.join(', '))}) against their synthetic counterfactual; bottom: the weekly gap (black) and each donor's placebo gap (grey). The dashed rule is the start of the test period.`,
  );
  const ci = (e: any) => (e.ci ? `${esc(fmtValue(e.ci[0], ''))} to ${esc(fmtValue(e.ci[1], ''))}` : '—');
  const rows = r.estimates
    .map(
      (e: any) =>
        `<tr${e.estimator === ft.deciding_estimator ? ' class="deciding"' : ''}><th scope="row">${esc(e.estimator.toUpperCase())}${e.estimator === ft.deciding_estimator ? ' (decides)' : ''}</th><td class="num">${esc(fmtValue(e.estimate, ''))}</td><td class="num">${ci(e)}</td><td class="num">${esc(fmtP(e.p_value))}</td><td class="num">${esc(fmtP(e.permutation_p))} (min ${esc(fmtP(e.permutation_min_p))})</td><td class="num">${esc(fmtValue(e.pre_rmspe, ''))}</td><td class="num">${e.leave_one_out_range ? `${esc(fmtValue(e.leave_one_out_range[0], ''))} to ${esc(fmtValue(e.leave_one_out_range[1], ''))}` : '—'}</td></tr>`,
    )
    .join('');
  const weights = dec.unit_weights.map((w: any) => `<tr><th scope="row">${esc(w.unit)}</th><td class="num">${esc(fmtPct(w.weight))}</td></tr>`).join('');
  return `<h3>Synthetic counterfactual (few treated territories)</h3>
<p class="claim">${esc(ft.claim)}</p>
${figure}
<table data-table="few-treated"><caption>${esc(k.label)}: effect per treated territory-week (${esc(ft.unit)}); CI and p from the placebo randomization (one method), permutation p ranked by post/pre RMSPE ratio (shown, decides nothing)</caption>
<thead><tr><th scope="col">Estimator</th><th scope="col">Estimate</th><th scope="col">CI</th><th scope="col">p (placebo randomization)</th><th scope="col">Permutation p</th><th scope="col">Pre-period RMSPE</th><th scope="col">Leave-one-donor-out range</th></tr></thead><tbody>${rows}</tbody></table>
${r.poor_fit ? `<p class="note">Poor fit: the treated territories lie outside the donors' range in ${esc(String(r.outside_range_weeks))} pre-period week(s); synthetic control cannot reproduce them, rely on SDID's intercept with care.</p>` : ''}
<table data-table="donor-weights"><caption>Top donor weights (${esc(String(ft.deciding_estimator).toUpperCase())})</caption><thead><tr><th scope="col">Donor</th><th scope="col">Weight</th></tr></thead><tbody>${weights}</tbody></table>`;
}
