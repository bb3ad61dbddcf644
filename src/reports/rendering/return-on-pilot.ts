/**
 * Return on the pilot: incremental revenue won by the treatment territories against the declared
 * cost of the treatment over the test period. Pure, no I/O.
 */
import { welchTTest } from '../../stats/welch';
import type { ReportData } from './chart-data';
import { kpisOf } from './chart-data';
import { num } from './format';

/** An estimate with its confidence interval (currency, or a fraction for `return_on_cost`). */
export interface Interval {
  estimate: number;
  ci_low: number | null;
  ci_high: number | null;
}

/** The return on the pilot, every number in the currency of the opportunity amounts. */
export interface ReturnOnPilot {
  /** declared cost per month of running the treatment in all treatment territories */
  monthly_cost: number;
  /** test-period length in months: days ÷ 30.4375 (365.25 / 12) */
  months: number;
  /** monthly_cost × months */
  cost: number;
  /** treatment territories the increment is scaled to */
  n_treatment: number;
  conf_level: number;
  /** n_treatment × (mean − mean) revenue won per territory, Welch CI scaled the same way */
  incremental_revenue: Interval;
  /** incremental revenue − cost */
  net: Interval;
  /** (incremental revenue − cost) ÷ cost, fraction */
  return_on_cost: Interval;
  /** where the difference came from */
  source: string;
  /** whether the revenue-won effect behind the increment is significant (its KPI's decision); null when unknown */
  lift_significant: boolean | null;
  /** plain-language warning to print beside the return when the effect is not significant, or it has no interval */
  warning: string | null;
}

const DAYS_PER_MONTH = 365.25 / 12;

function daysInclusive(start: string, end: string): number | null {
  const a = Date.parse(`${start}T00:00:00Z`);
  const b = Date.parse(`${end}T00:00:00Z`);
  return Number.isFinite(a) && Number.isFinite(b) && b >= a ? Math.round((b - a) / 86_400_000) + 1 : null;
}

/**
 * The pilot's return when it declares a monthly cost (`report.pilot.monthly_cost`, or `monthlyCost`
 * given by the caller for reports stored before the field existed).
 *
 * Incremental revenue = n_t × (mean revenue won per treatment territory − per control territory):
 * what the treatment territories won beyond what the same number of control territories won over
 * the test period (revenue-won cohort: deals engaged and won in the test period). The difference
 * and its CI, scaled by n_t, come from the report's `revenue_won` result when the pilot declared
 * that KPI (its deciding method, `primary`, e.g. CUPED-adjusted randomization inference with a CI
 * by test inversion; the Welch difference in older reports), else from Welch on the report's
 * territory values. Net = increment − cost;
 * return on cost = net ÷ cost; both CIs follow from the increment's CI (cost is a fixed number).
 * Revenue, not margin: the page says so. The return is only ever shown with its interval; `warning`
 * says when the revenue-won effect behind it is not significant (or has no interval, in which case
 * the renderer shows no point estimate either).
 *
 * @param treatmentArm with several treatment arms: the arm to evaluate (default: `arms.treatment`)
 * @returns null when no cost is declared, the cost is not positive, or revenue won cannot be compared
 */
export function returnOnPilot(report: ReportData, monthlyCost?: number | null, treatmentArm?: string): ReturnOnPilot | null {
  const pilot = (report.pilot ?? {}) as unknown as Record<string, unknown>;
  const cost = num(pilot.monthly_cost) ?? num(monthlyCost);
  if (cost === null || !(cost > 0)) return null;
  const window = report.pilot?.test_period;
  const days = window ? daysInclusive(window.start, window.end) : null;
  if (days === null) return null;
  const months = days / DAYS_PER_MONTH;
  const total = cost * months;

  let diff: { estimate: number; ci_low: number | null; ci_high: number | null; conf_level: number; n_t: number; source: string } | null = null;
  let significant: boolean | null = null;
  const arm = treatmentArm ?? report.arms?.treatment;
  const kpi = kpisOf(report).find((k) => k.kpi === 'revenue_won' && (!k.treatment_arm || k.treatment_arm === arm));
  const d = kpi?.difference;
  const primary = (kpi as unknown as Record<string, unknown> | undefined)?.primary as Record<string, unknown> | undefined;
  if (kpi && typeof kpi.significant === 'boolean') significant = kpi.significant;
  if (primary && primary.status === 'ok' && num(primary.estimate) !== null && num(kpi?.treatment?.n_territories) !== null) {
    // The deciding method's estimate (e.g. CUPED-adjusted randomization inference): the same numbers as the decision.
    diff = {
      estimate: num(primary.estimate)!,
      ci_low: num(primary.ci_low),
      ci_high: num(primary.ci_high),
      conf_level: num(d?.conf_level) ?? 1 - (num(report.pilot?.alpha) ?? 0.05),
      n_t: kpi!.treatment.n_territories,
      source: `the revenue won result of this report, deciding method: ${String(primary.method)} (${kpi!.treatment.n_territories} treatment and ${kpi!.control.n_territories} control territories)`,
    };
  } else if (d && num(d.estimate) !== null && num(kpi?.treatment?.n_territories) !== null) {
    diff = {
      estimate: d.estimate!,
      ci_low: num(d.ci_low),
      ci_high: num(d.ci_high),
      conf_level: num(d.conf_level) ?? 1 - (num(report.pilot?.alpha) ?? 0.05),
      n_t: kpi!.treatment.n_territories,
      source: `the revenue won result of this report (Welch t, ${kpi!.treatment.n_territories} treatment and ${kpi!.control.n_territories} control territories)`,
    };
  } else if (Array.isArray(report.territories) && arm && report.arms?.control) {
    const values = (arm: string) =>
      report.territories.filter((t) => t.arm === arm).map((t) => num(t.kpis?.revenue_won)).filter((v): v is number => v !== null);
    const t = values(arm);
    const c = values(report.arms.control);
    const alpha = num(report.pilot?.alpha) ?? 0.05;
    if (t.length && c.length) {
      const w = welchTTest(t, c, { alpha });
      if (w.p_two_sided !== null) significant = w.p_two_sided < alpha;
      if (w.diff !== null) {
        diff = {
          estimate: w.diff,
          ci_low: w.ci_low,
          ci_high: w.ci_high,
          conf_level: w.conf_level,
          n_t: t.length,
          source: `Welch t on the territories' revenue won in this report (${t.length} treatment, ${c.length} control territories)`,
        };
      }
    }
  }
  if (!diff) return null;
  const scale = (x: number | null) => (x === null ? null : diff!.n_t * x);
  const inc: Interval = { estimate: diff.n_t * diff.estimate, ci_low: scale(diff.ci_low), ci_high: scale(diff.ci_high) };
  const minus = (x: number | null) => (x === null ? null : x - total);
  const net: Interval = { estimate: inc.estimate - total, ci_low: minus(inc.ci_low), ci_high: minus(inc.ci_high) };
  const ratio = (x: number | null) => (x === null ? null : x / total);
  return {
    monthly_cost: cost,
    months,
    cost: total,
    n_treatment: diff.n_t,
    conf_level: diff.conf_level,
    incremental_revenue: inc,
    net,
    return_on_cost: { estimate: net.estimate / total, ci_low: ratio(net.ci_low), ci_high: ratio(net.ci_high) },
    source: diff.source,
    lift_significant: significant,
    warning:
      inc.ci_low === null || inc.ci_high === null
        ? 'The revenue-won effect has no confidence interval, so no return is shown: a point estimate alone would overstate what is known.'
        : significant === false
          ? `The revenue-won effect is not significant: the interval runs from a return of ${(100 * ratio(net.ci_low)!).toFixed(0)}% to ${(100 * ratio(net.ci_high)!).toFixed(0)}%, so the pilot may not pay back; do not read the point estimate as its return.`
          : significant === null
            ? 'Whether the revenue-won effect is significant is not known for this report; read the return with its interval.'
            : null,
  };
}
