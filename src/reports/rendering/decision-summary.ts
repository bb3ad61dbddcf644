/**
 * The report's decision summary: ship, extend or stop, with the reasons in plain language and how
 * confident we are. Pure, no I/O; reads the stored report defensively.
 *
 * Rule (also printed on the page, docs/reading-reports.md):
 *  1. stop when a guardrail KPI is significantly worse (or fails its non-inferiority test), or when
 *     the primary KPI is significantly worse;
 *  2. ship when the primary KPI is significantly better at the full readout (test period over);
 *  3. extend when the primary KPI is better but the test period is still running, or when it is
 *     inconclusive and its estimate points the good way (a worthwhile effect is not ruled out);
 *  4. stop when it is inconclusive at the full readout and its estimate points the bad way or is 0,
 *     or when the primary KPI has no result at all.
 * Confidence starts high for a decision p below α/5, moderate below α, low otherwise, and drops
 * one level for each caveat: interim look, incomplete data, many deals still open at readout,
 * plan amendments after launch.
 */
import { KPI_STATUS_LABELS, type KpiResult, type KpiStatus } from '../report.types';
import { kpisOf, liftIntervalName, type ReportData } from './chart-data';
import { fmtMoney, fmtP, fmtPct, fmtValue, num } from './format';
import type { ReturnOnPilot } from './return-on-pilot';

export type Decision = 'ship' | 'extend' | 'stop';
export type Confidence = 'high' | 'moderate' | 'low';

/** One reason behind the decision. */
export interface DecisionReason {
  topic: 'primary KPI' | 'guardrails' | 'data completeness' | 'open deals' | 'plan amendments' | 'readout' | 'return on the pilot';
  /** the finding in one plain sentence */
  finding: string;
  /** whether it argues for shipping, against it, or neither */
  stance: 'for' | 'against' | 'neutral';
}

export interface DecisionSummary {
  decision: Decision;
  headline: string;
  confidence: Confidence;
  confidence_reason: string;
  reasons: DecisionReason[];
  /** the caveats that lowered the confidence */
  caveats: string[];
}

/** Share of test-period deals still open at readout above which the result may still move. */
export const OPEN_SHARE_CAVEAT = 0.2;

type Direction = 'better' | 'worse' | 'none';

/** The deciding method's estimate (`primary`), else the Welch difference (older reports). */
export function decidingEstimate(k: KpiResult): number | null {
  const primary = (k as unknown as Record<string, unknown>).primary as { estimate?: unknown } | undefined;
  return num(primary?.estimate) ?? num(k.difference?.estimate);
}

function direction(k: KpiResult): Direction {
  const est = decidingEstimate(k);
  if (est === null || est === 0) return 'none';
  return est > 0 === Boolean(k.higher_is_better) ? 'better' : 'worse';
}

/** The deciding estimate in the KPI's unit, with its method when the report names one. */
function estimateText(k: KpiResult): string {
  const primary = (k as unknown as Record<string, unknown>).primary as { method?: unknown } | undefined;
  const est = decidingEstimate(k);
  const unit = k.unit === 'currency per day' ? ' per day' : k.unit === 'days' ? ' days' : '';
  const value = est === null ? 'none' : k.unit === 'fraction 0..1' ? fmtDifferenceText(est) : `${est >= 0 ? '+' : '−'}${fmtValue(Math.abs(est))}${unit}`;
  return typeof primary?.method === 'string' ? `${value}, ${shortMethod(primary.method)}` : value;
}

function fmtDifferenceText(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} pp`;
}

/** The method's name up to its first parenthesis or semicolon (a1's names are long). */
function shortMethod(method: string): string {
  if (/randomization/i.test(method) && /Lin's interacted adjustment/.test(method)) return 'Lin-adjusted randomization inference';
  return /cuped/i.test(method) && /randomization/i.test(method) ? 'CUPED-adjusted randomization inference' : method.split(/[;(]/)[0].trim();
}

function pText(k: KpiResult): string {
  const p = num(k.decision_p);
  return p === null ? 'no p-value' : `decision p ${fmtP(p)}`;
}

function liftText(k: KpiResult): string {
  const rl = k.relative_lift;
  if (!rl || num(rl.estimate) === null) return 'no lift estimate';
  const ci = num(rl.ci_low) !== null && num(rl.ci_high) !== null ? ` (CI ${fmtPct(rl.ci_low)} to ${fmtPct(rl.ci_high)}, ${liftIntervalName(rl.method)})` : '';
  return `${fmtPct(rl.estimate)}${ci}`;
}

/** Non-inferiority outcome of a guardrail when the report carries one (a newer report field). */
function failsNonInferiority(k: KpiResult): string | null {
  const ni = (k as unknown as Record<string, unknown>).non_inferiority as Record<string, unknown> | undefined;
  if (!ni || typeof ni !== 'object') return null;
  const passed = ni.non_inferior ?? ni.passed ?? (typeof ni.status === 'string' ? ni.status === 'non_inferior' || ni.status === 'passed' : undefined);
  if (passed === false) {
    const margin = num(ni.margin);
    return `${k.label} could not be shown non-inferior${margin !== null ? ` (margin ${fmtPct(margin)})` : ''}`;
  }
  return null;
}

/** Plan amendments recorded after launch, from whichever field the report carries them in. */
export function amendmentsOf(report: ReportData): { at: string | null; summary: string }[] {
  const plan = report.plan as Record<string, unknown> | undefined;
  const list = (plan?.amendments ?? report.amendments ?? report.plan_amendments) as unknown;
  if (!Array.isArray(list)) return [];
  return list.map((a) => {
    const r = (a ?? {}) as Record<string, unknown>;
    const at = (r.approved_at ?? r.amended_at ?? r.at ?? r.created_at ?? null) as string | null;
    const text = r.summary ?? r.reason ?? r.description;
    const fields = Array.isArray(r.changes) ? (r.changes as Record<string, unknown>[]).map((c) => String(c?.field ?? '')).filter(Boolean) : [];
    const base = typeof text === 'string' ? text : JSON.stringify(text ?? r.changes ?? r);
    return { at, summary: `${r.version !== undefined ? `version ${String(r.version)}: ` : ''}${base}${fields.length ? ` (changed: ${fields.join(', ')})` : ''}` };
  });
}

/**
 * Per-arm data completeness findings: `issues` are missing or mismatched data (territories without
 * any deal, a completeness check that fails, contamination); `openDeals` the arms with more than
 * OPEN_SHARE_CAVEAT of their test-period deals still open at readout (the data is complete, the
 * outcome may still move: a caveat of its own, not incomplete data); `notes` the rest.
 */
export function completenessFindings(report: ReportData): { issues: string[]; openDeals: string[]; notes: string[] } {
  const issues: string[] = [];
  const openDeals: string[] = [];
  const notes: string[] = [];
  const c = report.completeness;
  for (const arm of ['control', 'treatment'] as const) {
    const x = c?.[arm];
    if (!x || num(x.territories) === null) continue;
    const missing = x.territories - (num(x.territories_with_opportunities) ?? 0);
    if (missing > 0) issues.push(`${missing} of ${x.territories} ${arm} territories have no deal in the test period`);
  }
  const extra = report.data_completeness as unknown as Record<string, unknown> | undefined;
  if (extra && Array.isArray(extra.checks)) {
    for (const c of extra.checks as Record<string, unknown>[]) {
      // A check's note already starts with what it checked (stats/completeness.ts).
      if (c?.state === 'mismatch') issues.push(String(c.note ?? `${String(c.what)}: does not match the design`));
      else if (c?.state === 'too_little_data') notes.push(String(c.note ?? `${String(c.what)}: too little data to check`));
    }
  }
  const contamination = ((report.data as unknown as Record<string, unknown> | undefined)?.contamination ?? {}) as Record<string, { opportunities?: unknown; owners?: unknown }>;
  for (const [arm, c] of Object.entries(contamination)) {
    const n = num(c?.opportunities);
    if (n !== null && n > 0) issues.push(`${n} test-period deals of arm ${arm} (${num(c?.owners) ?? '?'} owners) were worked by owners who moved across arms (contamination)`);
  }
  const open = report.open_opportunities;
  const territories = Array.isArray(report.territories) ? report.territories : [];
  for (const arm of ['control', 'treatment'] as const) {
    const openAtEnd = num(open?.[arm]?.open_at_test_end);
    const key = report.arms?.[arm];
    const engaged = territories.filter((t) => t.arm === key).reduce((s, t) => s + (num(t.kpis?.opportunities) ?? 0), 0);
    if (openAtEnd === null || engaged === 0) continue;
    const share = openAtEnd / engaged;
    const text = `${openAtEnd} of ${engaged} ${arm} deals engaged in the test period were still open at its end (${(100 * share).toFixed(0)}%)`;
    if (share > OPEN_SHARE_CAVEAT) openDeals.push(`${text}: win rate and revenue may still move`);
    else notes.push(text);
  }
  return { issues, openDeals, notes };
}

const LOWER: Record<Confidence, Confidence> = { high: 'moderate', moderate: 'low', low: 'low' };

/** This report's scheduled interim look (O'Brien–Fleming boundary) when it is one. */
function sequentialLook(report: ReportData): { recommendation: string | null; text: string } | null {
  const seq = report.sequential as unknown as Record<string, unknown> | null | undefined;
  const cur = seq?.current as Record<string, unknown> | null | undefined;
  if (!seq || !cur) return null;
  const z = num(cur.z);
  const bound = num(cur.z_boundary);
  const frac = num(cur.information_fraction);
  const rec = typeof cur.recommendation === 'string' ? cur.recommendation : null;
  const text =
    `Scheduled ${String(seq.kind ?? 'interim')} look${seq.look_number ? ` ${String(seq.look_number)}` : ''}` +
    `${frac !== null ? ` at ${(100 * frac).toFixed(0)}% of the test period` : ''}: z = ${z === null ? '—' : z.toFixed(2)} against the O'Brien–Fleming boundary ±${bound === null ? '—' : bound.toFixed(2)}; ` +
    `recommendation: ${rec ? rec.replace(/_/g, ' ') : 'none'}${cur.reason ? ` (${String(cur.reason)})` : ''}.`;
  return { recommendation: rec, text };
}

/** The guardrail reason, and the breaches (significantly worse, or failing non-inferiority) that force a stop. */
function guardrailStep(guardrails: KpiResult[]): { guardHarm: string[]; reason: DecisionReason } {
  const harmed = guardrails.filter((k) => k.significant === true && direction(k) === 'worse').map((k) => `${k.label} is significantly worse (lift of the raw arm means ${liftText(k)}, ${pText(k)})`);
  const niFailed = guardrails.map(failsNonInferiority).filter((x): x is string => x !== null);
  const guardHarm = [...harmed, ...niFailed];
  if (!guardrails.length) return { guardHarm, reason: { topic: 'guardrails', finding: 'The pilot declares no guardrail KPI.', stance: 'neutral' } };
  if (guardHarm.length) return { guardHarm, reason: { topic: 'guardrails', finding: `Guardrail breached: ${guardHarm.join('; ')}.`, stance: 'against' } };
  return {
    guardHarm,
    reason: {
      topic: 'guardrails',
      finding: `No guardrail is significantly worse (${guardrails.map((k) => `${k.label}: lift of the raw arm means ${liftText(k)}, ${pText(k)}`).join('; ')}).`,
      stance: 'for',
    },
  };
}

/** The readout reasons: an interim look (a caveat unless it is a scheduled one) and the scheduled look's outcome. */
function readoutStep(report: ReportData, complete: boolean, seq: ReturnType<typeof sequentialLook>, reasons: DecisionReason[], caveats: string[]): void {
  if (!complete) {
    // A scheduled look has its own O'Brien–Fleming boundary (alpha spending), so it is no caveat.
    if (!seq) caveats.push('interim look: the test period is still running');
    reasons.push({ topic: 'readout', finding: report.readout?.note ?? 'The test period is still running (interim look).', stance: 'neutral' });
  }
  if (seq) reasons.push({ topic: 'readout', finding: seq.text, stance: seq.recommendation === 'stop_for_efficacy' ? 'for' : seq.recommendation === 'stop_for_futility' ? 'against' : 'neutral' });
}

/**
 * The data completeness reason (incomplete data is a caveat) and, when many test-period deals are
 * still open at readout, the open-deals reason (its own caveat: the data is complete, the outcome
 * may still move).
 */
function completenessStep(report: ReportData, reasons: DecisionReason[], caveats: string[]): void {
  const comp = completenessFindings(report);
  if (comp.issues.length) {
    caveats.push('incomplete data');
    reasons.push({ topic: 'data completeness', finding: `${comp.issues.join('; ')}.`, stance: 'against' });
  } else {
    reasons.push({
      topic: 'data completeness',
      finding: `Every territory has deals in the test period${comp.notes.length ? `; ${comp.notes.join('; ')}` : ''}.`,
      stance: 'for',
    });
  }
  if (comp.openDeals.length) {
    caveats.push('many deals still open at readout');
    reasons.push({ topic: 'open deals', finding: `${comp.openDeals.join('; ')}.`, stance: 'against' });
  }
}

/** The plan amendments reason; an amended plan is a caveat. */
function amendmentStep(report: ReportData, reasons: DecisionReason[], caveats: string[]): void {
  const amendments = amendmentsOf(report);
  if (amendments.length) {
    caveats.push('plan amended after launch');
    reasons.push({
      topic: 'plan amendments',
      finding: `The plan was amended ${amendments.length} time(s) after launch: ${amendments.map((a) => a.summary).join('; ')}. Read the results against the amended plan.`,
      stance: 'against',
    });
  } else {
    reasons.push({ topic: 'plan amendments', finding: 'No amendment to the plan is recorded in this report.', stance: 'for' });
  }
}

interface PrimaryOutcome {
  decision: Decision;
  headline: string;
  /** the confidence before the caveats */
  base: Confidence;
  reason: DecisionReason;
}

/** The decision when the primary KPI has no result (or there is none): stop, or extend during an interim look. */
function noPrimaryResult(primary: KpiResult | undefined, complete: boolean, guardHarm: string[]): PrimaryOutcome {
  const decision: Decision = guardHarm.length ? 'stop' : complete ? 'stop' : 'extend';
  const headline = primary
    ? `The primary KPI, ${primary.label}, has no result (${primary.status_reason ?? KPI_STATUS_LABELS[primary.status as KpiStatus] ?? String(primary.status)}).`
    : 'The report has no primary KPI result.';
  return { decision, headline, base: 'low', reason: { topic: 'primary KPI', finding: headline, stance: 'against' } };
}

/** Rules 1 to 4 of the module comment for a primary KPI with a result: the decision and its headline. */
function primaryRule(primary: KpiResult, dir: Direction, est: string, complete: boolean, seq: ReturnType<typeof sequentialLook>, guardHarm: string[]): { decision: Decision; headline: string } {
  if (guardHarm.length) {
    return { decision: 'stop', headline: `Stop: a guardrail is breached${primary.significant && dir === 'better' ? `, even though ${primary.label} improved` : ''}.` };
  }
  if (primary.significant && dir === 'worse') return { decision: 'stop', headline: `Stop: ${primary.label} is significantly worse in treatment.` };
  if (!complete && seq?.recommendation === 'stop_for_futility') {
    return { decision: 'stop', headline: `Stop: the scheduled interim look recommends stopping for futility (${primary.label} is unlikely to reach significance by the end).` };
  }
  if (primary.significant && dir === 'better') {
    const early = !complete && seq?.recommendation === 'stop_for_efficacy';
    const decision: Decision = complete || early ? 'ship' : 'extend';
    if (early) return { decision, headline: `Ship: ${primary.label} crossed the O'Brien–Fleming efficacy boundary at a scheduled interim look, and no guardrail is breached.` };
    return {
      decision,
      headline: complete
        ? `Ship: ${primary.label} is significantly better in treatment and no guardrail is breached.`
        : `Extend: ${primary.label} looks significantly better, but the test period is not over; finish it before deciding.`,
    };
  }
  if (!complete || dir === 'better') {
    return {
      decision: 'extend',
      headline: !complete
        ? `Extend: ${primary.label} shows no significant difference yet and the test period is still running.`
        : `Extend: ${primary.label} shows no significant difference, but the deciding method's estimate (${est}) points the good way and a worthwhile lift is not ruled out; more time or more territories are needed.`,
    };
  }
  return { decision: 'stop', headline: `Stop: ${primary.label} shows no significant difference and the deciding method's estimate (${est}) does not point the good way.` };
}

/** The decision from the primary KPI (and any guardrail breach), its headline, base confidence and reason. */
function primaryStep(primary: KpiResult | undefined, alpha: number, complete: boolean, seq: ReturnType<typeof sequentialLook>, guardHarm: string[]): PrimaryOutcome {
  if (!primary || primary.status !== 'ok' || primary.significant === null || primary.significant === undefined) return noPrimaryResult(primary, complete, guardHarm);
  const dir = direction(primary);
  const p = num(primary.decision_p);
  const est = estimateText(primary);
  const finding = `${primary.label}: ${primary.verdict ?? ''} Deciding estimate ${est}; relative lift of the raw arm means ${liftText(primary)}; ${pText(primary)} (α = ${alpha}).`.replace(/\s+/g, ' ');
  let base: Confidence = 'low';
  if (primary.significant) base = p !== null && p < alpha / 5 ? 'high' : 'moderate';
  if (guardHarm.length) base = 'moderate';
  const { decision, headline } = primaryRule(primary, dir, est, complete, seq, guardHarm);
  return { decision, headline, base, reason: { topic: 'primary KPI', finding, stance: primary.significant && dir === 'better' ? 'for' : 'against' } };
}

/** The return on the pilot as a reason (never decisive): for when the net's CI is above 0, against when below. */
function roiReason(roi: ReturnOnPilot): DecisionReason {
  const ci = roi.net.ci_low !== null && roi.net.ci_high !== null;
  return {
    topic: 'return on the pilot',
    finding:
      `Incremental revenue won ${fmtMoney(roi.incremental_revenue.estimate, true)} against a cost of ` +
      `${fmtMoney(roi.cost)} (return on cost ${fmtPct(roi.return_on_cost.estimate, 0)}` +
      `${ci ? `, CI ${fmtPct(roi.return_on_cost.ci_low, 0)} to ${fmtPct(roi.return_on_cost.ci_high, 0)}` : ''}).`,
    stance: roi.net.ci_low !== null && roi.net.ci_low > 0 ? 'for' : roi.net.ci_high !== null && roi.net.ci_high < 0 ? 'against' : 'neutral',
  };
}

/** The confidence: the base level lowered once per caveat, and the sentence that explains it. */
function confidenceStep(base: Confidence, caveats: string[], alpha: number, guardHarm: string[]): { confidence: Confidence; confidence_reason: string } {
  let confidence = base;
  caveats.forEach(() => (confidence = LOWER[confidence]));
  const baseText =
    base === 'high'
      ? `the primary KPI's decision p is below α/5 = ${alpha / 5}`
      : base === 'moderate'
        ? guardHarm.length
          ? 'a guardrail breach is a clear stop signal'
          : `the primary KPI's decision p is below α = ${alpha} but not below α/5`
        : 'the primary KPI result is inconclusive';
  const confidence_reason = `${confidence[0].toUpperCase()}${confidence.slice(1)}: ${baseText}${caveats.length ? `; lowered for: ${caveats.join(', ')}` : ''}.`;
  return { confidence, confidence_reason };
}

/**
 * Decides ship / extend / stop from a stored report (rule in the module comment).
 * @param roi the return on the pilot when the pilot declares its cost (shown as a reason, never decisive)
 * @param treatmentArm with several treatment arms: decide for this arm's comparisons with control
 */
export function decisionSummary(report: ReportData, roi: ReturnOnPilot | null = null, treatmentArm?: string): DecisionSummary {
  const kpis = kpisOf(report).filter((k) => !treatmentArm || !k.treatment_arm || k.treatment_arm === treatmentArm);
  const alpha = num(report.pilot?.alpha) ?? 0.05;
  const primary = kpis.find((k) => k.role === 'primary');
  const guardrails = kpis.filter((k) => k.role === 'guardrail');
  const caveats: string[] = [];

  const { guardHarm, reason: guardReason } = guardrailStep(guardrails);
  const reasons: DecisionReason[] = [guardReason];
  const complete = report.readout?.test_period_complete !== false;
  const seq = sequentialLook(report);
  readoutStep(report, complete, seq, reasons, caveats);
  completenessStep(report, reasons, caveats);
  amendmentStep(report, reasons, caveats);

  const { decision, headline, base, reason: primaryReason } = primaryStep(primary, alpha, complete, seq, guardHarm);
  reasons.unshift(primaryReason);
  if (roi) reasons.push(roiReason(roi));

  const { confidence, confidence_reason } = confidenceStep(base, caveats, alpha, guardHarm);
  return { decision, headline, confidence, confidence_reason, reasons, caveats };
}
