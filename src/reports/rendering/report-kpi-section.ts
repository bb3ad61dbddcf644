/** The KPI results section of the report page: one row per KPI with the deciding method's numbers. */
import { KPI_STATUS_LABELS, type KpiStatus } from '../report.types';
import { kpisOf, type ReportData } from './chart-data';
import { esc, fmtDifference, fmtDifferenceRange, fmtP, fmtPct, fmtValue, num, unitLabel } from './format';
import { notAvailable, sentence, treatmentArms } from './report-html.helpers';

function statusText(k: ReturnType<typeof kpisOf>[number]): string {
  if (k.status !== 'ok') return `no result (${k.status_reason ?? KPI_STATUS_LABELS[k.status as KpiStatus] ?? String(k.status)})`;
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
  if (m.startsWith('lin_interacted_ols_hc2')) return "Lin's regression adjustment on the pre-period KPI (HC2, n − k df)";
  if (m.startsWith('welch_t')) return `Welch t${m.slice('welch_t'.length)}`;
  return m.replace(/_/g, ' ');
}

/** The KPI table (every KPI, treatment against control), its note and the verdicts. */
export function kpiSection(report: ReportData): string {
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
<thead><tr><th scope="col">KPI</th><th scope="col">Role</th>${multiArm ? '<th scope="col">Arm</th>' : ''}<th scope="col">Control mean</th><th scope="col">Treatment mean</th><th scope="col">Raw difference (raw lift)</th><th scope="col">Effect (${pct}% CI)</th><th scope="col">Lift of the effect: effect ÷ control mean (${pct}% CI)</th><th scope="col">p</th><th scope="col">Adjusted p (${esc(adjName)})</th><th scope="col">Method</th><th scope="col">Status</th></tr></thead>
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
