/**
 * Time to close with censoring: Kaplan–Meier survival per arm and the log-rank test.
 *
 * A deal engaged in the test period is an observation: time = whole days from engage to close
 * (event = closed, won or lost) or from engage to the cut-off (censored = still open at the cut-off).
 *  - Kaplan–Meier (1958): S(t) = Π_{t_j ≤ t} (1 − d_j/n_j) over the distinct event times t_j, with n_j
 *    at risk just before t_j (a deal censored at t_j is still at risk at t_j).
 *  - Greenwood variance, log-log pointwise CI (Kalbfleisch & Prentice 2002):
 *    S^{exp(±z·√(Σ d/(n(n−d)))/log S)}.
 *  - median = the first time with S(t) ≤ 0.5; its CI (Brookmeyer & Crowley 1982, by inverting the
 *    pointwise band as R `survfit` does): lower = first time the band's lower limit is ≤ 0.5, upper =
 *    first time its upper limit is ≤ 0.5; null = not reached (the upper end is unbounded).
 *  - log-rank (Mantel 1966): chi² = (O_T − E_T)²/V over the pooled distinct event times,
 *    V = Σ n_T n_C d (n − d)/(n²(n − 1)), 1 df, p upper tail.
 * Reference: scipy.stats.ecdf(CensoredData).sf.confidence_interval(method='log-log'), scipy.stats.logrank.
 */
import { chiSquareSf, normalInv } from './distributions';

/** Times (days, ≥ 0) and event flags (true = closed; false = censored at that time). */
export interface SurvivalSample {
  time: readonly number[];
  event: readonly boolean[];
}

/** Kaplan–Meier estimate of one arm. */
export interface KaplanMeierResult {
  method: 'kaplan_meier_greenwood_loglog';
  n: number;
  events: number;
  censored: number;
  /** distinct observed times (events or censorings), ascending */
  times: number[];
  /** S(t) at each of `times` */
  survival: number[];
  /** pointwise (1 − α) log-log band at each of `times` */
  ci_low: number[];
  ci_high: number[];
  /** null when S never reaches 0.5 ("not reached") */
  median: number | null;
  median_ci_low: number | null;
  /** null when unbounded */
  median_ci_high: number | null;
  conf_level: number;
}

function validate(s: SurvivalSample): void {
  if (s.time.length !== s.event.length) throw new RangeError('time and event must have the same length');
  for (const t of s.time) if (!(Number.isFinite(t) && t >= 0)) throw new RangeError(`times must be finite and ≥ 0, got ${t}`);
}

const EPS = 1e-12;

/**
 * Kaplan–Meier survival with Greenwood/log-log CI and the median with its CI (see the file header).
 * @param sample times in days and event flags
 * @param opts.alpha band level (default 0.05)
 * @throws RangeError on mismatched lengths or negative/non-finite times
 */
export function kaplanMeier(sample: SurvivalSample, opts: { alpha?: number } = {}): KaplanMeierResult {
  validate(sample);
  const alpha = opts.alpha ?? 0.05;
  const z = normalInv(1 - alpha / 2);
  const n = sample.time.length;
  const order = sample.time.map((_, i) => i).sort((a, b) => sample.time[a] - sample.time[b]);
  const times: number[] = [];
  const survival: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  let atRisk = n;
  let s = 1;
  let greenwood = 0;
  let i = 0;
  while (i < n) {
    const t = sample.time[order[i]];
    let d = 0;
    let c = 0;
    while (i < n && sample.time[order[i]] === t) {
      if (sample.event[order[i]]) d++;
      else c++;
      i++;
    }
    if (d > 0) {
      s *= 1 - d / atRisk;
      greenwood += atRisk > d ? d / (atRisk * (atRisk - d)) : 0;
    }
    times.push(t);
    survival.push(s);
    if (s <= 0) {
      lo.push(0);
      hi.push(0);
    } else if (s >= 1) {
      lo.push(1);
      hi.push(1);
    } else {
      const w = (z * Math.sqrt(greenwood)) / Math.log(s);
      lo.push(Math.pow(s, Math.exp(-w)));
      hi.push(Math.pow(s, Math.exp(w)));
    }
    atRisk -= d + c;
  }
  const firstAtOrBelowHalf = (vals: number[]) => {
    const k = vals.findIndex((v) => v <= 0.5 + EPS);
    return k >= 0 ? times[k] : null;
  };
  const events = sample.event.filter(Boolean).length;
  return {
    method: 'kaplan_meier_greenwood_loglog',
    n,
    events,
    censored: n - events,
    times,
    survival,
    ci_low: lo,
    ci_high: hi,
    median: firstAtOrBelowHalf(survival),
    median_ci_low: firstAtOrBelowHalf(lo),
    median_ci_high: firstAtOrBelowHalf(hi),
    conf_level: 1 - alpha,
  };
}

/** Log-rank test of two arms. */
export interface LogRankResult {
  method: 'log_rank';
  status: 'ok' | 'insufficient_data';
  observed_t: number;
  expected_t: number | null;
  chi2: number | null;
  df: 1;
  p_value: number | null;
}

/**
 * Two-sample log-rank test (see the file header); status 'insufficient_data' when there is no event
 * or the variance is 0 (e.g. one arm empty).
 */
export function logRankTest(treatment: SurvivalSample, control: SurvivalSample): LogRankResult {
  validate(treatment);
  validate(control);
  const rows = [
    ...treatment.time.map((t, i) => ({ t, e: treatment.event[i], g: 1 })),
    ...control.time.map((t, i) => ({ t, e: control.event[i], g: 0 })),
  ].sort((a, b) => a.t - b.t);
  let nT = treatment.time.length;
  let nC = control.time.length;
  let o = 0;
  let e = 0;
  let v = 0;
  let i = 0;
  while (i < rows.length) {
    const t = rows[i].t;
    let d = 0;
    let dT = 0;
    let remT = 0;
    let remC = 0;
    while (i < rows.length && rows[i].t === t) {
      if (rows[i].e) {
        d++;
        if (rows[i].g === 1) dT++;
      }
      if (rows[i].g === 1) remT++;
      else remC++;
      i++;
    }
    const nAll = nT + nC;
    if (d > 0) {
      o += dT;
      e += (d * nT) / nAll;
      if (nAll > 1) v += (nT * nC * d * (nAll - d)) / (nAll * nAll * (nAll - 1));
    }
    nT -= remT;
    nC -= remC;
  }
  if (!(v > 0)) return { method: 'log_rank', status: 'insufficient_data', observed_t: o, expected_t: null, chi2: null, df: 1, p_value: null };
  const chi2 = ((o - e) * (o - e)) / v;
  return { method: 'log_rank', status: 'ok', observed_t: o, expected_t: e, chi2, df: 1, p_value: Math.max(Number.MIN_VALUE, chiSquareSf(chi2, 1)) };
}
