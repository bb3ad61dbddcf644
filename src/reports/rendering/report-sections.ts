/** The other sections of the report page: decision, return on the pilot, balance, assignment, completeness and details. */
import type { ReportData } from './chart-data';
import { amendmentsOf, completenessFindings, decisionSummary } from './decision-summary';
import { esc, fmtMoney, fmtPct, fmtValue, num } from './format';
import { notAvailable, treatmentArms, type ReportHtmlInput } from './report-html.helpers';
import { returnOnPilot } from './return-on-pilot';

/** The decision summary: one block per treatment arm, the rule after the last. */
export function decisionSection(report: ReportData, input: ReportHtmlInput): string {
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

/** The return on the pilot: incremental revenue against cost, one block per treatment arm. */
export function returnSection(report: ReportData, input: ReportHtmlInput): string {
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

/** The balance table of the arms (pre-launch covariates and SMD). */
export function balanceSection(input: ReportHtmlInput): string {
  const b = input.assignment?.balance;
  const rows = Array.isArray(b?.rows) ? b!.rows : [];
  if (!rows.length) return notAvailable('the balance table (the assignment could not be read)');
  const body = rows
    .map(
      (r) => `<tr><th scope="row"><code>${esc(r.covariate)}</code></th><td class="num">${esc(fmtValue(r.mean_control))}</td><td class="num">${esc(fmtValue(r.sd_control))}</td><td class="num">${esc(
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

/** The territories and their arm, grouped by region (or stratum). */
export function assignmentSection(report: ReportData, input: ReportHtmlInput): string {
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
</div>${donorsLeftOut(report, input)}`;
}

/** Why an eligible territory is not a donor, in words (never the stored code). */
const LEFT_OUT_REASONS: Record<string, string> = {
  excluded: 'Excluded by the pilot',
  reserved: 'Reserved by another running pilot',
  incomplete_pre_period: 'Incomplete pre-period data',
};

/**
 * A chosen design's eligible territories left out of the donor pool, each with why (excluded by the
 * user, reserved by another running pilot, incomplete pre-period data) and the detail stored with the
 * design (the pilot holding it, the weeks without data); from the assignment, else the report's copy.
 * Empty for randomized designs.
 */
function donorsLeftOut(report: ReportData, input: ReportHtmlInput): string {
  const type = input.assignment?.design?.type ?? report.design?.type;
  if (type !== 'chosen') return '';
  const pool = input.assignment?.design?.donor_pool ?? report.design?.donor_pool;
  if (!pool || !Array.isArray(pool.left_out)) return `<p class="note">The donor pool of this chosen design was not recorded with the report.</p>`;
  const remain = Array.isArray(pool.donors) ? ` (${pool.donors.length} donor territories remain)` : '';
  if (pool.left_out.length === 0) return `<p class="note">No eligible territory was left out of the donor pool${remain}.</p>`;
  const rows = pool.left_out
    .map((l) => {
      const detail = l.reason === 'excluded' ? 'named in the pilot’s exclusions' : l.detail;
      return `<tr data-left-out="${esc(l.code)}"><th scope="row">${esc(l.code)}</th><td>${esc(LEFT_OUT_REASONS[l.reason] ?? 'Left out')}</td><td>${esc(detail)}</td></tr>`;
    })
    .join('\n');
  return `<table data-table="donors-left-out"><caption>Eligible territories left out of the donor pool${remain}</caption>
<thead><tr><th scope="col">Territory</th><th scope="col">Why</th><th scope="col">Detail</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/** The completeness check's overall state (report.data_completeness.state) as the end of a sentence, never its code. */
const COMPLETENESS_STATE_SENTENCES: Record<string, string> = {
  ok: 'the territories and opportunities reporting match the design.',
  mismatch: 'fewer territories or opportunities report in an arm than the design and the pre-period lead to expect; see the findings above.',
  too_little_data: 'the counts are too small for at least one check to detect missing data at this size, which is not evidence that nothing is missing.',
};

/** @param state 'ok' | 'mismatch' | 'too_little_data' (report.types.ts); anything else: a neutral sentence */
function completenessStateSentence(state: unknown): string {
  return (typeof state === 'string' && COMPLETENESS_STATE_SENTENCES[state]) || 'no overall result is recorded in this report.';
}

/** Data completeness, open deals and the data cut-off. */
export function completenessSection(report: ReportData): string {
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
    ? `<table class="numbers"><caption>Data completeness check of the analysis: ${esc(completenessStateSentence(dc?.state))}</caption>
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
<dt>As-of instant</dt><dd>${esc(data.as_of ?? 'none (the current rows)')}${asOfNote(data.as_of_state)}</dd>
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
${findings.openDeals.length ? `<p><strong>Watch (deals still open, not missing data):</strong></p><ul>${findings.openDeals.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : ''}
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

/** The draws of the assignment in one line: how many, and each seed (with its source and a redraw's reason). */
function drawsText(draws: NonNullable<ReportData['design']>['draws']): string {
  if (!draws?.length) return 'not recorded in this report';
  const each = draws.map((x) => `#${x.number} seed ${esc(x.seed)} (${esc(x.seed_source)})${x.reason ? `: ${esc(x.reason)}` : ''}`);
  return `${draws.length} draw${draws.length === 1 ? '' : 's'}; ${each.join('; ')}`;
}

/** The design and methods of the pilot and its analysis. */
export function detailsSection(report: ReportData): string {
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
<dt>Assignment draws</dt><dd>${drawsText(d?.draws)}</dd>
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

/** The sentence of an as-of report's `data.as_of_state` (where the deals' states came from), or nothing. */
function asOfNote(state: unknown): string {
  const note = state && typeof state === 'object' ? (state as { note?: unknown }).note : undefined;
  return typeof note === 'string' ? `: ${esc(note)}` : '';
}
