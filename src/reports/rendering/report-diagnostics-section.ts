/**
 * The few-cluster diagnostics section of the report page (issue 14): per KPI that carries
 * `design_analyses` (design-analyses.ts), primary first, the fragile flag in words, every analysis
 * with its role (which few-cluster method decides the weekly panel, from the locked plan, and which
 * rows are robustness or a naive comparison), the territories with the largest leverage, the
 * effective number of territories G* against G, and the leave-one-territory-out range of the
 * estimate with the territory that moves it most. Pure: reads the stored report defensively.
 * Sources of the numbers: few-cluster-diagnostics.ts (MacKinnon, Nielsen & Webb 2023; Carter,
 * Schnepel & Steigerwald 2017) and few-cluster-inference.ts.
 */
import type { DesignAnalysesResult, DesignAnalysisRow } from '../comparison/design-analyses';
import type { FewClusterDiagnostics, FragilityResult } from '../../stats/few-cluster-diagnostics';
import { FEW_CLUSTER_METHOD_LABELS, type FewClusterRow } from '../../stats/few-cluster-inference';
import { kpisOf, type ReportData } from './chart-data';
import { esc, fmtDifference, fmtDifferenceRange, fmtP, num } from './format';
import { notAvailable, treatmentArms } from './report-html.helpers';

/** How many territories the leverage table lists (largest share of the effect's leverage first). */
export const TOP_LEVERAGE_TERRITORIES = 3;

type Kpi = ReturnType<typeof kpisOf>[number];
type TerritoryDiagnostics = FewClusterDiagnostics & { model?: string; estimate?: number };

const ROLE_WORDS: Record<string, string> = {
  design_consistent: 'design-consistent, robustness',
  robustness: 'robustness',
  naive_comparison: 'naive comparison, never decides',
};

const FIXED_EFFECTS_WORDS: Record<string, string> = { none: 'no fixed effects', pair: 'pair fixed effects', stratum: 'stratum fixed effects' };

const ROLE_ORDER = ['primary', 'secondary', 'guardrail'];
const roleRank = (role: string) => (ROLE_ORDER.includes(role) ? ROLE_ORDER.indexOf(role) : ROLE_ORDER.length);

/**
 * The fragile flag in words.
 * @param f the stored fragility result (fragility() in few-cluster-diagnostics.ts)
 * @param alpha the significance level it was computed at (0..1)
 * @returns one HTML paragraph, class `fragility fragile` or `fragility not-fragile`
 */
export function fragilityText(f: FragilityResult | null | undefined, alpha: number): string {
  const sig = Array.isArray(f?.significant) ? f!.significant : [];
  const not = Array.isArray(f?.not_significant) ? f!.not_significant : [];
  const na = Array.isArray(f?.unavailable) ? f!.unavailable : [];
  const a = `α = ${alpha}`;
  const list = (xs: string[]) => xs.map(esc).join(', ');
  let body: string;
  if (f?.fragile) {
    body = `<strong>Fragile</strong>: the methods offered fall on both sides of ${a}, so treat the result as uncertain. Significant: ${list(sig)}. Not significant: ${list(not)}.`;
  } else if (sig.length + not.length === 0) {
    body = '<strong>Not assessed</strong>: no method could be computed for these data.';
  } else {
    const n = sig.length + not.length;
    body = `<strong>Not fragile</strong>: all ${n} methods with a p-value ${sig.length ? 'find the effect significant' : 'find no significant effect'} at ${a}.`;
  }
  const missing = na.length ? ` Not computed for these data: ${list(na)}.` : '';
  return `<p class="fragility ${f?.fragile ? 'fragile' : 'not-fragile'}" role="note">${body}${missing}</p>`;
}

function row(label: string, role: string, est: unknown, lo: unknown, hi: unknown, p: unknown, note: unknown, unit: string): string {
  const ci = num(lo) !== null && num(hi) !== null ? fmtDifferenceRange(lo, hi, unit) : 'no CI';
  return `<tr><th scope="row">${esc(label)}</th><td>${esc(role)}</td><td class="num">${esc(fmtDifference(est, unit))}</td><td class="num">${esc(ci)}</td><td class="num">${esc(fmtP(p))}</td><td>${typeof note === 'string' && note ? esc(note) : ''}</td></tr>`;
}

function methodsTable(k: Kpi, da: DesignAnalysesResult, pct: number): string {
  const rows = Array.isArray(da.rows) ? da.rows : [];
  const territoryRows = rows.map((r: DesignAnalysisRow) => row(r.label, ROLE_WORDS[r.role] ?? 'robustness', r.estimate, r.ci_low, r.ci_high, r.p_value, r.note, k.unit)).join('\n');
  const panel = da.panel;
  const methods: FewClusterRow[] = panel && Array.isArray(panel.methods) ? panel.methods : [];
  const panelHeader = panel
    ? `<tr><th scope="colgroup" colspan="6">Weekly panel: difference in differences with ${esc(FIXED_EFFECTS_WORDS[panel.fixed_effects] ?? 'fixed effects')}, ${esc(panel.unit)}, every territory one cluster</th></tr>`
    : '';
  const panelRows = methods.map((m) => row(m.label, m.deciding ? 'decides the weekly panel (locked plan)' : 'robustness', m.estimate, m.ci_low, m.ci_high, m.p_value, m.note, '')).join('\n');
  return `<table class="numbers methods">
<caption>Every analysis of ${esc(k.label)} offered for this design, with its role and its own ${pct}% CI</caption>
<thead><tr><th scope="col">Analysis</th><th scope="col">Role</th><th scope="col">Estimate</th><th scope="col">${pct}% CI</th><th scope="col">p</th><th scope="col">Note</th></tr></thead>
<tbody>
${territoryRows}
${panelHeader}
${panelRows}
</tbody>
</table>`;
}

function gStarText(d: FewClusterDiagnostics | null | undefined): string | null {
  if (!d) return null;
  const g1 = num(d.effective_clusters);
  const g0 = num(d.effective_clusters_independent);
  if (g1 !== null) return `G* = ${g1.toFixed(1)} of G = ${d.clusters} territories (Carter, Schnepel & Steigerwald, ρ = 1)${g0 !== null ? `; ${g0.toFixed(1)} with independent errors (ρ = 0)` : ''}`;
  if (g0 !== null) return `G* = ${g0.toFixed(1)} of G = ${d.clusters} territories (Carter, Schnepel & Steigerwald with independent errors, ρ = 0; the ρ = 1 model carries no information for this comparison)`;
  return null;
}

function leverageTable(td: TerritoryDiagnostics, unit: string): string {
  const ts = Array.isArray(td.territories) ? td.territories : [];
  const top = [...ts].sort((a, b) => b.partial_leverage - a.partial_leverage).slice(0, TOP_LEVERAGE_TERRITORIES);
  const even = ts.length ? `${(100 / ts.length).toFixed(1)}%` : '—';
  return `<table class="numbers leverage">
<caption>The ${top.length} territories with the largest share of the treatment effect's leverage (an even share would be ${even} each)</caption>
<thead><tr><th scope="col">Territory</th><th scope="col">Share of the effect's leverage</th><th scope="col">Leverage</th><th scope="col">Estimate without it</th></tr></thead>
<tbody>
${top.map((t) => `<tr><th scope="row">${esc(t.territory)}</th><td class="num">${esc((100 * t.partial_leverage).toFixed(1))}%</td><td class="num">${esc(t.leverage.toFixed(2))}</td><td class="num">${esc(fmtDifference(t.leave_one_out_estimate, unit))}</td></tr>`).join('\n')}
</tbody>
</table>`;
}

function leaveOneOutText(td: TerritoryDiagnostics, unit: string): string {
  const r = td.leave_one_out_range;
  if (!r) return 'not defined for these data';
  const loo = (Array.isArray(td.territories) ? td.territories : []).filter((t) => num(t.leave_one_out_estimate) !== null);
  // the territory that moves it most: farthest from the all-data estimate (reports before it was stored: from the jackknife mean)
  const centre = num(td.estimate) ?? loo.reduce((s, t) => s + t.leave_one_out_estimate!, 0) / Math.max(1, loo.length);
  const mover = loo.reduce<(typeof loo)[number] | null>((best, t) => (best === null || Math.abs(t.leave_one_out_estimate! - centre) > Math.abs(best.leave_one_out_estimate! - centre) ? t : best), null);
  const all = num(td.estimate) !== null ? ` (all territories: ${esc(fmtDifference(td.estimate, unit))})` : '';
  return `without any one territory, the estimate ranges from ${esc(fmtDifferenceRange(r.low, r.high, unit))}${all}; ${mover ? `leaving out ${esc(mover.territory)} moves it most, to ${esc(fmtDifference(mover.leave_one_out_estimate, unit))}` : ''}`;
}

function kpiBlock(k: Kpi, da: DesignAnalysesResult, multiArm: boolean): string {
  const conf = num(da.conf_level) ?? 0.95;
  const pct = Math.round(100 * conf);
  const alpha = Number((1 - conf).toFixed(4));
  const td = da.territory_diagnostics as TerritoryDiagnostics | null | undefined;
  const panel = da.panel;
  const decider = panel ? (FEW_CLUSTER_METHOD_LABELS[panel.deciding_method] ?? panel.methods?.find((m) => m.deciding)?.label ?? null) : null;
  const panelG = panel ? gStarText(panel.diagnostics) : null;
  const items = [
    td ? `<dt>Effective number of territories</dt><dd>${esc(gStarText(td) ?? 'not defined for these data')}. A G* well below G means a few territories carry most of the information, and cluster-robust p-values come out too small.</dd>` : '',
    panelG ? `<dt>Weekly panel</dt><dd>${esc(panelG)}</dd>` : '',
    td ? `<dt>Leave one territory out</dt><dd>${leaveOneOutText(td, k.unit)}.</dd>` : '',
    td?.model ? `<dt>Model of these diagnostics</dt><dd>${esc(td.model)}</dd>` : '',
  ].filter(Boolean);
  return `<h3>${esc(k.label)} (${esc(k.role)})${multiArm && k.treatment_arm ? `, ${esc(k.treatment_arm)}` : ''}</h3>
${fragilityText(da.fragility, alpha)}
${
  decider
    ? panel?.deciding_reason
      ? `<p>The few-cluster method that decides the weekly-panel difference in differences: ${esc(panel.deciding_reason)}. The other panel methods and the design-consistent rows are robustness; the KPI itself is decided by the method in the KPI table.</p>`
      : `<p>The locked analysis plan names the few-cluster method that decides the weekly-panel difference in differences: ${esc(decider)} (plans locked before this choice was recorded use the wild cluster bootstrap). The other panel methods and the design-consistent rows are robustness; the KPI itself is decided by the method in the KPI table.</p>`
    : ''
}
${methodsTable(k, da, pct)}
${td ? leverageTable(td, k.unit) : '<p class="note">Territory leverage: not computed (fewer than 4 territories with a value, or two per arm).</p>'}
${items.length ? `<dl class="meta">\n${items.join('\n')}\n</dl>` : ''}`;
}

/**
 * The section body: one block per KPI with design analyses, primary first, then secondary and
 * guardrail KPIs in report order.
 * @param report the stored report (any shape; KPIs without `design_analyses` are skipped)
 * @returns HTML; "not available" when no KPI carries design analyses (reports before issue 14)
 */
export function diagnosticsSection(report: ReportData): string {
  const kpis = kpisOf(report)
    .map((k, i) => ({ k, i, da: (k as unknown as { design_analyses?: DesignAnalysesResult | null }).design_analyses }))
    .filter((x): x is { k: Kpi; i: number; da: DesignAnalysesResult } => !!x.da && typeof x.da === 'object')
    .sort((a, b) => roleRank(a.k.role) - roleRank(b.k.role) || a.i - b.i);
  if (!kpis.length) return notAvailable('few-cluster diagnostics (the report predates them or no KPI could be analysed)');
  const multiArm = treatmentArms(report).length > 1;
  return `<p class="note">Pilots have few territories, and one large territory can carry a result. Per KPI: whether the methods offered agree (the fragile flag), every analysis with its role, the territories with the most leverage on the treatment effect, the effective number of territories, and how far the estimate moves when one territory is left out.</p>
${kpis.map(({ k, da }) => kpiBlock(k, da, multiArm)).join('\n')}`;
}
