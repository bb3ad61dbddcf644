/**
 * Relative lift of treatment over control territories: lift = mean_t / mean_c − 1.
 *
 * Conventions (shared/reference/relative_lift.json): independent arms, var_mean_x = s²_x/n_x
 * (ddof = 1), z = Φ⁻¹(1 − α/2) (standard normal, not Student t) for both intervals.
 *  - Delta method: se = √(var_mean_t/mean_c² + mean_t²·var_mean_c/mean_c⁴); CI = lift ∓ z·se.
 *  - Fieller (1954): g = z²·var_mean_c/mean_c². If g < 1 the set
 *    {r : (mean_t − r·mean_c)² ≤ z²(var_mean_t + r²·var_mean_c)} is the interval between the roots of
 *    a·r² − 2b·r + c = 0, a = mean_c² − z²var_mean_c, b = mean_t·mean_c, c = mean_t² − z²var_mean_t,
 *    reported as lift bounds r − 1. If g ≥ 1 the set is unbounded: `bounded = false`, null bounds.
 *  - Log-ratio (issue 16): the delta method on log(mean_t/mean_c), se_log = √(var_mean_t/mean_t² +
 *    var_mean_c/mean_c²), CI = exp(log r ∓ z·se_log) − 1 (asymmetric, never below −100%). Needs
 *    mean_t > 0 as well; otherwise `defined = false` with null bounds.
 *
 * The report's default interval is RELATIVE_LIFT_DEFAULT_INTERVAL, chosen because it covered the true
 * +10% lift in the calibration bench (bench/calibration.ts, rows `relative_lift_*` of
 * calibration-results.json) where the delta method did not.
 *
 * Baseline convention (pitfall P4, GrowthBook PR #6658): a relative lift is only defined for a
 * POSITIVE control mean. When mean_c ≤ 0 the result has status 'baseline_not_positive' and null
 * ratio, lift and intervals — never a sign-flipped "−50%" for an improvement over a negative
 * baseline. Report the absolute difference (welchTTest) instead.
 */
import { armMoments } from './descriptive';
import { normalInv } from './distributions';

/** 'ok', an arm with < 2 values, a control mean ≤ 0 (relative lift undefined), or both arms constant (SE 0). */
export type RelativeLiftStatus = 'ok' | 'insufficient_data' | 'baseline_not_positive' | 'zero_variance';

/** Why the intervals of a zero-variance lift are null (the words of every zero-SE case of the report). */
export const LIFT_ZERO_VARIANCE_REASON = 'every territory has the same value within each arm, so the standard error of the lift is 0 and its interval is undefined';

/** The shape of Fieller's confidence set for the ratio. */
export type FiellerShape = 'interval' | 'disjoint' | 'half_line' | 'whole_line';

/** The relative-lift intervals `relativeLift` computes. */
export type RelativeLiftInterval = 'delta' | 'fieller' | 'log_ratio';

/**
 * The interval the report shows as `relative_lift.ci_low/ci_high` (the others stay beside it). Chosen
 * from the calibration bench (npm run bench:calibration, CRM panel, 1,000 placebo pilots per design):
 * coverage of the true +10% lift, delta / Fieller / log-ratio: complete 91.9 / 94.4 / 91.3%,
 * stratified 91.0 / 94.6 / 91.8%, matched pairs 94.4 / 96.9 / 95.7%, rerandomization 96.2 / 98.9 / 98.0%.
 * Fieller is the only one that never under-covers; it over-covers under rerandomization, as every
 * unadjusted interval does there (Welch 99.3%). The spec checks this choice against calibration-results.json.
 */
export const RELATIVE_LIFT_DEFAULT_INTERVAL: RelativeLiftInterval = 'fieller';

/** Result of `relativeLift`; lift and bounds are fractions (0.10 = +10%). */
export interface RelativeLiftResult {
  n_t: number;
  n_c: number;
  mean_t: number | null;
  mean_c: number | null;
  /** s²_t / n_t; null when fewer than 2 values */
  var_mean_t: number | null;
  var_mean_c: number | null;
  /** Φ⁻¹(1 − α/2) */
  z: number;
  /** mean_t / mean_c; null unless status is 'ok' */
  ratio: number | null;
  /** ratio − 1; null unless status is 'ok' */
  lift: number | null;
  delta: { se: number | null; ci_low: number | null; ci_high: number | null };
  /**
   * Fieller's confidence set: `shape` 'interval' (g < 1, bounds given); when g ≥ 1 it is unbounded and
   * no bound is a number: 'disjoint' (two rays (−∞, r₁] ∪ [r₂, ∞), excluding a middle range),
   * 'half_line' (g = 1 exactly) or 'whole_line' (every ratio is compatible with the data)
   */
  fieller: { g: number | null; bounded: boolean | null; shape: FiellerShape | null; ci_low: number | null; ci_high: number | null };
  /** delta method on the log scale, back-transformed; `defined` false when mean_t ≤ 0 (log undefined) */
  log_ratio: { se_log: number | null; defined: boolean | null; ci_low: number | null; ci_high: number | null };
  conf_level: number;
  status: RelativeLiftStatus;
  /** why the intervals are null, in words; null when status is 'ok' */
  reason: string | null;
}

/**
 * Relative lift mean_t/mean_c − 1 with delta-method, Fieller and log-ratio (1−α) intervals (normal quantile).
 * Sources: Fieller (1954) JRSS B 16; delta method as in Kohavi, Tang & Xu (2020) §18 / GrowthBook
 * gbstats; log-ratio interval: Katz et al. (1978) Biometrics 34 (the log risk-ratio interval, here with
 * var_mean/mean² for each arm); checked against closed forms in relative_lift.json and against
 * test/fixtures/relative-lift/log_ratio_fieller.json (python3 second route, script beside it).
 *
 * @param treatment one KPI value per treatment territory (finite numbers)
 * @param control one KPI value per control territory (finite numbers)
 * @param opts alpha in (0, 1), default 0.05
 * @returns status 'insufficient_data' when an arm has fewer than 2 values, 'baseline_not_positive'
 *   when mean_c ≤ 0 (lift, ratio, intervals null); Fieller `bounded: false` with null bounds when
 *   g ≥ 1 (the control mean is not significantly different from 0); log-ratio `defined: false` with
 *   null bounds when mean_t ≤ 0 (e.g. a treatment arm all at 0); 'zero_variance' when both arms
 *   are constant: the lift is reported, delta se = 0, every bound null (as Welch's zero-SE case),
 *   never a zero-width interval
 * @throws RangeError on a non-finite value or alpha outside (0, 1)
 */
export function relativeLift(
  treatment: readonly number[],
  control: readonly number[],
  opts: { alpha?: number } = {},
): RelativeLiftResult {
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie strictly between 0 and 1, got ${alpha}`);
  const z = normalInv(1 - alpha / 2);
  const { n: n_t, mean: mean_t, variance: var_t } = armMoments(treatment);
  const { n: n_c, mean: mean_c, variance: var_c } = armMoments(control);
  const var_mean_t = var_t === null ? null : var_t / n_t;
  const var_mean_c = var_c === null ? null : var_c / n_c;
  const empty: RelativeLiftResult = {
    n_t,
    n_c,
    mean_t,
    mean_c,
    var_mean_t,
    var_mean_c,
    z,
    ratio: null,
    lift: null,
    delta: { se: null, ci_low: null, ci_high: null },
    fieller: { g: null, bounded: null, shape: null, ci_low: null, ci_high: null },
    log_ratio: { se_log: null, defined: null, ci_low: null, ci_high: null },
    conf_level: 1 - alpha,
    status: 'insufficient_data',
    reason: null,
  };
  if (mean_t === null || mean_c === null || var_mean_t === null || var_mean_c === null) {
    return { ...empty, reason: `each arm needs at least 2 values (treatment ${n_t}, control ${n_c})` };
  }
  if (!(mean_c > 0)) return { ...empty, status: 'baseline_not_positive', reason: 'a relative lift is not defined for a control mean of 0 or below' };

  const ratio = mean_t / mean_c;
  const lift = ratio - 1;
  if (var_mean_t === 0 && var_mean_c === 0) {
    const fieller0 = { g: 0, bounded: null, shape: null, ci_low: null, ci_high: null };
    const log0 = { se_log: mean_t > 0 ? 0 : null, defined: mean_t > 0, ci_low: null, ci_high: null };
    return { ...empty, ratio, lift, delta: { se: 0, ci_low: null, ci_high: null }, fieller: fieller0, log_ratio: log0, status: 'zero_variance', reason: LIFT_ZERO_VARIANCE_REASON };
  }
  const mc2 = mean_c * mean_c;
  const deltaSe = Math.sqrt(var_mean_t / mc2 + (mean_t * mean_t * var_mean_c) / (mc2 * mc2));
  const z2 = z * z;
  const g = (z2 * var_mean_c) / mc2;
  let fieller: RelativeLiftResult['fieller'] = { g, bounded: false, shape: unboundedShape(mc2 - z2 * var_mean_c, mean_t * mean_c, mean_t * mean_t - z2 * var_mean_t), ci_low: null, ci_high: null };
  if (g < 1) {
    const a = mc2 - z2 * var_mean_c;
    const b = mean_t * mean_c;
    const c = mean_t * mean_t - z2 * var_mean_t;
    const root = Math.sqrt(Math.max(0, b * b - a * c));
    // numerically stable roots of a r² − 2 b r + c = 0
    const q = b >= 0 ? b + root : b - root;
    let r1: number;
    let r2: number;
    if (q === 0) {
      r1 = 0;
      r2 = 0;
    } else {
      r1 = q / a;
      r2 = c / q;
    }
    fieller = { g, bounded: true, shape: 'interval', ci_low: Math.min(r1, r2) - 1, ci_high: Math.max(r1, r2) - 1 };
  }
  let logRatio: RelativeLiftResult['log_ratio'] = { se_log: null, defined: false, ci_low: null, ci_high: null };
  if (mean_t > 0) {
    const seLog = Math.sqrt(var_mean_t / (mean_t * mean_t) + var_mean_c / mc2);
    const logR = Math.log(mean_t) - Math.log(mean_c);
    // expm1 keeps small lifts exact: exp(x) − 1 without cancellation
    logRatio = { se_log: seLog, defined: true, ci_low: Math.expm1(logR - z * seLog), ci_high: Math.expm1(logR + z * seLog) };
  }
  return {
    ...empty,
    ratio,
    lift,
    delta: { se: deltaSe, ci_low: lift - z * deltaSe, ci_high: lift + z * deltaSe },
    fieller,
    log_ratio: logRatio,
    status: 'ok',
  };
}

/**
 * The bounds of one interval of a `relativeLift` result, with the reason in words when they are null
 * (Fieller unbounded, log-ratio undefined, or the result's own status reason).
 * @param r a `relativeLift` result
 * @param interval which interval (default RELATIVE_LIFT_DEFAULT_INTERVAL)
 * @returns lift bounds as fractions (null, null with a reason when the interval does not exist)
 */
export function liftInterval(
  r: RelativeLiftResult,
  interval: RelativeLiftInterval = RELATIVE_LIFT_DEFAULT_INTERVAL,
): { ci_low: number | null; ci_high: number | null; reason: string | null } {
  const pick = interval === 'delta' ? r.delta : interval === 'fieller' ? r.fieller : r.log_ratio;
  if (pick.ci_low !== null && pick.ci_high !== null) return { ci_low: pick.ci_low, ci_high: pick.ci_high, reason: null };
  if (r.status !== 'ok') return { ci_low: null, ci_high: null, reason: r.reason };
  if (interval === 'fieller') {
    return {
      ci_low: null,
      ci_high: null,
      reason:
        `Fieller's ${Math.round(100 * r.conf_level)}% set is unbounded (g = ${(r.fieller.g ?? NaN).toFixed(3)} ≥ 1: the control mean is not clearly different from 0)` +
        (r.fieller.shape === 'disjoint' ? ': two disjoint rays, so no finite interval exists' : r.fieller.shape === 'whole_line' ? ': every ratio is compatible with the data' : ': a half-line, so no finite interval exists'),
    };
  }
  return { ci_low: null, ci_high: null, reason: 'the log-ratio interval needs a positive treatment mean (log of 0 or below is undefined)' };
}

/**
 * Shape of Fieller's set {r : a·r² − 2b·r + c ≤ 0} when g ≥ 1 (a ≤ 0): two rays when the quadratic has
 * two real roots and a < 0, a half-line when a = 0, otherwise every r.
 */
function unboundedShape(a: number, b: number, c: number): FiellerShape {
  if (a === 0) return b === 0 && c > 0 ? 'whole_line' : 'half_line';
  return b * b - a * c > 0 ? 'disjoint' : 'whole_line';
}
