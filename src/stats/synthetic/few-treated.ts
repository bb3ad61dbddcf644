/**
 * Few-treated analysis (1–5 treated territories): DiD, SC and SDID side by side (the paper's Table 1)
 * on a territory × week panel, with placebo SEs (Algorithm 4), jackknife (Algorithm 3, > 1 treated),
 * the placebo-in-space permutation p-value (Abadie et al. 2010: ranked by post/pre RMSPE ratio) and
 * fit diagnostics. The CI and p of every estimator come from one method, the placebo randomization
 * test over re-assignments of the treated set among all territories (`permutationTestInversion`); the normal reference
 * τ̂ ± z·SE over-rejected on the calibration bench (issue 12). See synthdid.ts for the estimators
 * and docs/statistics.md for the conventions.
 */
import { createPrng, Prng } from '../design/prng';
import { fitSynth, jackknifeSe, PanelMatrix, placeboSe, SynthEstimator, SynthFit } from './synthdid';

/** A typed bad-input error (the later API maps it to 422). */
export class FewTreatedInputError extends Error {
  constructor(
    readonly code: 'PRE_PERIOD_TOO_SHORT' | 'EMPTY_DONOR_POOL' | 'TREATED_MISSING_WEEKS' | 'K_EXCEEDS_POOL' | 'INVALID_PANEL',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'FewTreatedInputError';
  }
}

/** Long-format panel: one row per territory and week (week = integer index, 0 = first week). */
export interface FewTreatedPanel {
  unit: readonly string[];
  week: readonly number[];
  value: readonly number[];
}

/** Options of `analyseFewTreated`. */
export interface FewTreatedOptions {
  /** number of pre-period weeks (weeks 0..preWeeks−1 of the sorted week list); the rest is the test period */
  preWeeks: number;
  /** placebo replications (default 200, as the paper) */
  replications?: number;
  /** seed of the placebo permutations (default 1) */
  seed?: number;
  /** confidence level (default 0.95) */
  level?: number;
  /** minimum pre-period weeks (default 4) */
  minPreWeeks?: number;
  /** how many top donors to report (default 10) */
  topDonors?: number;
  /** leave-one-donor-out refits over the top donors (default true) */
  leaveOneOut?: boolean;
  /** estimators to fit (default all three) */
  estimators?: readonly SynthEstimator[];
  /** compute the placebo-in-space permutation p (default true; the calibration bench's planted runs skip it) */
  permutation?: boolean;
  /** compute the placebo SE (Algorithm 4; default true; the calibration bench, which tests p and CI only, skips it) */
  placeboSe?: boolean;
}

/** One estimator's result. */
export interface FewTreatedEstimate {
  estimator: SynthEstimator;
  /** average treatment effect on the treated block over the test period, units of the KPI per week */
  estimate: number;
  placebo_se: number | null;
  jackknife_se: number | null;
  /**
   * the method of both `ci` and `p_value`: the placebo randomization test over re-assignments of the
   * treated set among all territories (`permutationTestInversion`); `placebo_se` (Algorithm 4) is
   * shown, not used as a normal reference
   */
  inference_method: 'placebo_randomization';
  /**
   * re-assignments behind `ci` and `p_value` (M): every other set of N1 territories once when there
   * are at most `replications` of them (`placebo_sets_exhaustive`), else `replications` distinct random sets
   */
  placebo_replications: number;
  placebo_sets_exhaustive: boolean;
  /** whether `p_value` may decide (`rankTestDecision` on M); when false the report does not decide on it */
  test_decision: { offered: boolean; reason: string };
  /** CI by inversion of the same test; null when unbounded */
  ci: [number, number] | null;
  /** (1 + #{S: |τ_S| ≥ |τ̂|}) / (1 + M); null when there are no finite re-assignment estimates */
  p_value: number | null;
  /** placebo-in-space permutation p (treated block vs each donor as pseudo-treated, RMSPE ratio); null when not computed (`permutation: false`) */
  permutation_p: number | null;
  /** its smallest attainable value 1 / (J + 1), J = donors refitted as pseudo-treated */
  permutation_min_p: number;
  /** its largest attainable size at α = 1 − level: P(p < α) when the J + 1 ranks are equally likely */
  permutation_attainable_size: number;
  /** whether the permutation p may decide (`permutationDecision`); when false the reason says why; it is always shown */
  permutation_decision: { offered: boolean; reason: string };
  unit_weights: { unit: string; weight: number }[];
  time_weights: { week: number; weight: number }[];
  pre_rmspe: number;
  post_rmspe: number;
  series: { week: number; treated: number; synthetic: number; gap: number }[];
  placebo_gaps: { unit: string; gap: number[] }[];
  leave_one_out: { unit: string; estimate: number }[] | null;
  leave_one_out_range: [number, number] | null;
}

/** Result of `analyseFewTreated`. */
export interface FewTreatedResult {
  treated: string[];
  donors: string[];
  weeks: number[];
  pre_weeks: number;
  /** treated-block pre-period weeks outside the donors' [min, max] */
  outside_range_weeks: number;
  poor_fit: boolean;
  estimates: FewTreatedEstimate[];
}

/** One re-assignment of the permutation test: its estimate on the observed data and its exposure to a shift of the treated. */
export interface PermutationDraw {
  /** the estimate with the re-assigned pseudo-treated set, on the observed data */
  estimate: number;
  /**
   * c: how the estimate moves when the actually treated territories' test-period values are lowered
   * by τ0 (weights held): estimate(τ0) = estimate − τ0·c, c = |S ∩ T|/N1 − Σ_{donors d ∈ T} ω_d
   */
  exposure: number;
}

/**
 * The placebo-randomization (randomization) test of the few-treated estimators (issue 12), p and CI
 * from one method. The reference set: M re-assignments S of N1 pseudo-treated territories among ALL
 * N territories (the actually treated ones included, as pseudo-treated or as donors), each refitted
 * by the same estimator; under the sharp null τ = τ0 with the treated set exchangeable with any
 * other set of N1 territories (e.g. drawn at random), the observed estimate is one of M + 1 equally
 * likely values, so P(p < α) ≤ α exactly, with no normal approximation (Fisher; Firpo & Possebom
 * 2018 for synthetic control). Two-sided, for H0: τ = τ0 (the treated test-period values shifted by
 * −τ0, weights held at their fit, exact for DiD and SC whose weights use the pre-period only):
 *   p(τ0) = (1 + #{S: |a_S − τ0·c_S| ≥ |τ̂ − τ0|}) / (1 + M),
 * p_value = p(0), CI = {τ0: p(τ0) ≥ α} (its hull; the breakpoints are the roots
 * (a_S − τ̂)/(c_S − 1) and (a_S + τ̂)/(c_S + 1)). Decisions use p < α, so τ0 is rejected exactly when
 * it lies outside the CI. The reference excludes nothing: Algorithm 4's control-only placebos leave
 * out the treated territories, and when one of them is large the treated estimate is judged against
 * placebos of smaller territories (the over-rejection the calibration bench showed).
 *
 * @param estimate τ̂ (units of the KPI); @param draws the M re-assignments (non-finite ones dropped)
 * @param alpha two-sided level (CI level 1 − α), in (0, 1)
 * @returns p(0) (null without finite draws), the CI (null when it is unbounded: M too small for α, or
 *   re-assignments as exposed as the observed one), and M
 * @throws RangeError when alpha is not in (0, 1)
 */
export function permutationTestInversion(
  estimate: number,
  draws: readonly PermutationDraw[],
  alpha: number,
): { p_value: number | null; ci: [number, number] | null; replications: number } {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const ok = draws.filter((d) => Number.isFinite(d.estimate) && Number.isFinite(d.exposure));
  const m = ok.length;
  if (m === 0 || !Number.isFinite(estimate)) return { p_value: null, ci: null, replications: m };
  const pAt = (tau0: number) => {
    const obs = Math.abs(estimate - tau0);
    // ties count (≥); a relative 1e-12 keeps the CI's endpoints (exact ties) against rounding
    const tol = 1e-12 * Math.max(1, Math.abs(estimate), Math.abs(tau0));
    let c = 0;
    for (const d of ok) if (Math.abs(d.estimate - tau0 * d.exposure) >= obs - tol) c++;
    return (1 + c) / (1 + m);
  };
  const p0 = pAt(0);
  const roots: number[] = [estimate];
  for (const d of ok) {
    if (d.exposure !== 1) roots.push((d.estimate - estimate) / (d.exposure - 1));
    if (d.exposure !== -1) roots.push((d.estimate + estimate) / (d.exposure + 1));
  }
  const r = roots.filter(Number.isFinite).sort((x, y) => x - y);
  const span = Math.max(1, ...r.map(Math.abs));
  const probe: number[] = [r[0] - span];
  r.forEach((x, i) => {
    probe.push(x);
    probe.push(i + 1 < r.length ? (x + r[i + 1]) / 2 : x + span);
  });
  if (pAt(probe[0]) >= alpha || pAt(probe[probe.length - 1]) >= alpha) return { p_value: p0, ci: null, replications: m };
  const inside = probe.filter((x) => pAt(x) >= alpha);
  return { p_value: p0, ci: [Math.min(...inside), Math.max(...inside)], replications: m };
}

/**
 * The re-assignments of `permutationTestInversion`: every set of N1 territories other than the
 * treated one when there are at most `replications` of them (exhaustive), otherwise `replications`
 * distinct random sets (≠ the treated set); each refitted by `fitSynth` with its default options, as
 * the observed estimate was.
 */
export function permutationDraws(p: PanelMatrix, estimator: SynthEstimator, replications: number, rng: Prng): { draws: PermutationDraw[]; exhaustive: boolean } {
  const n1 = p.n - p.n0;
  const treatedKey = Array.from({ length: n1 }, (_, i) => p.n0 + i).join(',');
  const refit = (set: readonly number[]): PermutationDraw => {
    const inSet = new Set(set);
    const donors = Array.from({ length: p.n }, (_, i) => i).filter((i) => !inSet.has(i));
    const order = [...donors, ...set];
    const y = new Float64Array(p.n * p.t);
    order.forEach((r, k) => y.set(p.y.subarray(r * p.t, (r + 1) * p.t), k * p.t));
    const f = fitSynth({ y, n: p.n, t: p.t, n0: donors.length, t0: p.t0 }, estimator);
    let exposure = set.filter((i) => i >= p.n0).length / n1;
    donors.forEach((r, k) => {
      if (r >= p.n0) exposure -= f.omega[k];
    });
    return { estimate: f.estimate, exposure };
  };
  const draws: PermutationDraw[] = [];
  if (binomialCapped(p.n, n1, replications + 1) <= replications + 1) {
    const pick: number[] = [];
    const walk = (from: number) => {
      if (pick.length === n1) {
        if (pick.join(',') !== treatedKey) draws.push(refit(pick));
        return;
      }
      for (let i = from; i <= p.n - (n1 - pick.length); i++) {
        pick.push(i);
        walk(i + 1);
        pick.pop();
      }
    };
    walk(0);
    return { draws, exhaustive: true };
  }
  const seen = new Set<string>([treatedKey]);
  const perm = Array.from({ length: p.n }, (_, i) => i);
  for (let tries = 0; draws.length < replications && tries < 20 * replications; tries++) {
    rng.shuffle(perm);
    const set = perm.slice(p.n - n1).sort((a, b) => a - b);
    const key = set.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    draws.push(refit(set));
  }
  return { draws, exhaustive: false };
}

/**
 * Fraction of α below which a test's attainable size disqualifies it as a decision test: the
 * calibration band's lower edge (3.5% at α = 5%, docs/statistics.md "Calibration").
 */
export const MIN_ATTAINABLE_SIZE_FRACTION = 0.7;

/**
 * Largest attainable size of a rank p-value p = c/(J + 1), c ∈ {1, …, J + 1} equally likely under the
 * null: P(p < α) = #{c ≥ 1: c/(J + 1) < α} / (J + 1) (e.g. J = 29, α = 0.05: 1/30 = 3.3%).
 */
export function rankTestAttainableSize(placebos: number, alpha: number): number {
  let c = 0;
  while (c + 1 <= placebos + 1 && (c + 1) / (placebos + 1) < alpha) c++;
  return c / (placebos + 1);
}

/**
 * Whether the placebo-in-space permutation p is offered as a decision test (it is always shown):
 * only for one treated territory (with N1 > 1 the treated block's averaged series is ranked against
 * single donors, which are not exchangeable with it), and only when its attainable size at α is at
 * least MIN_ATTAINABLE_SIZE_FRACTION · α (otherwise it cannot reach the calibration band and a
 * randomized or mid-p is not a decision p).
 */
export function permutationDecision(treated: number, placebos: number, alpha: number): { offered: boolean; reason: string } {
  const size = rankTestAttainableSize(placebos, alpha);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  if (treated > 1) {
    return {
      offered: false,
      reason: `not a decision test: the ${treated} treated territories' averaged series is ranked against single donors as pseudo-treated, which are not exchangeable with it; shown as a diagnostic`,
    };
  }
  if (size < MIN_ATTAINABLE_SIZE_FRACTION * alpha) {
    return {
      offered: false,
      reason: `not a decision test: with ${placebos} donors the smallest p is 1/${placebos + 1} and the attainable size at α = ${alpha} is ${pct(size)}, below ${pct(MIN_ATTAINABLE_SIZE_FRACTION * alpha)}; shown as a diagnostic`,
    };
  }
  return { offered: true, reason: `one treated territory, ${placebos} donors: attainable size ${pct(size)} at α = ${alpha}` };
}

/**
 * Whether the placebo randomization test on M re-assignments may decide: its p is a rank among
 * M + 1, so its size at α is at most `rankTestAttainableSize(M, α)`; below MIN_ATTAINABLE_SIZE_FRACTION · α
 * it is not offered (e.g. one treated territory and 29 donors: M = 29, size 1/30 = 3.3%; no exact test
 * under exchangeability alone does better, and a randomized p is not a decision p).
 */
export function rankTestDecision(sets: number, alpha: number): { offered: boolean; reason: string } {
  const size = rankTestAttainableSize(sets, alpha);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  if (size < MIN_ATTAINABLE_SIZE_FRACTION * alpha) {
    return {
      offered: false,
      reason: `not a decision test: ${sets} re-assignments, smallest p 1/${sets + 1}, attainable size at α = ${alpha} is ${pct(size)}, below ${pct(MIN_ATTAINABLE_SIZE_FRACTION * alpha)}`,
    };
  }
  return { offered: true, reason: `${sets} re-assignments: attainable size ${pct(size)} at α = ${alpha}` };
}

/** C(n, k), or Infinity once it exceeds `cap`. */
function binomialCapped(n: number, k: number, cap: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) {
    c = (c * (n - k + i)) / i;
    if (c > cap) return Infinity;
  }
  return Math.round(c);
}

/**
 * Builds the N × T matrix (donors first, then treated) from a long panel, validating it.
 *
 * @throws FewTreatedInputError for a short pre-period, an empty donor pool, treated units with missing
 *   weeks or an unknown treated unit. Donors with missing weeks are dropped and listed in `dropped`.
 */
export function buildPanelMatrix(
  panel: FewTreatedPanel,
  treated: readonly string[],
  preWeeks: number,
  minPreWeeks = 4,
): { matrix: PanelMatrix; donors: string[]; treated: string[]; weeks: number[]; dropped: string[] } {
  if (panel.unit.length !== panel.week.length || panel.unit.length !== panel.value.length) {
    throw new FewTreatedInputError('INVALID_PANEL', 'unit, week and value must have the same length');
  }
  const weeks = [...new Set(panel.week)].sort((a, b) => a - b);
  if (!Number.isInteger(preWeeks) || preWeeks < minPreWeeks) {
    throw new FewTreatedInputError('PRE_PERIOD_TOO_SHORT', `the pre-period needs at least ${minPreWeeks} weeks, got ${preWeeks}`, { preWeeks, minPreWeeks });
  }
  if (preWeeks >= weeks.length) {
    throw new FewTreatedInputError('INVALID_PANEL', `no test-period weeks: ${weeks.length} weeks, ${preWeeks} pre-period`, { weeks: weeks.length, preWeeks });
  }
  if (treated.length === 0) throw new FewTreatedInputError('INVALID_PANEL', 'no treated unit');
  const wi = new Map(weeks.map((w, i) => [w, i]));
  const cells = new Map<string, Float64Array>();
  for (let r = 0; r < panel.unit.length; r++) {
    let row = cells.get(panel.unit[r]);
    if (!row) cells.set(panel.unit[r], (row = new Float64Array(weeks.length).fill(NaN)));
    row[wi.get(panel.week[r]) as number] = panel.value[r];
  }
  const missing: Record<string, number[]> = {};
  for (const u of treated) {
    const row = cells.get(u);
    if (!row) throw new FewTreatedInputError('INVALID_PANEL', `treated unit ${u} is not in the panel`, { unit: u });
    const miss = weeks.filter((_, i) => !Number.isFinite(row[i]));
    if (miss.length) missing[u] = miss;
  }
  if (Object.keys(missing).length) {
    throw new FewTreatedInputError('TREATED_MISSING_WEEKS', 'treated units have missing weeks; complete their data or drop them', { missing });
  }
  const tset = new Set(treated);
  const donors: string[] = [];
  const dropped: string[] = [];
  for (const [u, row] of [...cells.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (tset.has(u)) continue;
    if (row.every((v) => Number.isFinite(v))) donors.push(u);
    else dropped.push(u);
  }
  if (donors.length === 0) throw new FewTreatedInputError('EMPTY_DONOR_POOL', 'no donor territory with complete data', { dropped });
  const order = [...donors, ...treated];
  const t = weeks.length;
  const y = new Float64Array(order.length * t);
  order.forEach((u, i) => y.set(cells.get(u) as Float64Array, i * t));
  return { matrix: { y, n: order.length, t, n0: donors.length, t0: preWeeks }, donors, treated: [...treated], weeks, dropped };
}

/**
 * Checks that k treated territories can be chosen from a pool of `pool` eligible ones (the donor pool
 * must keep at least k + 1 units for placebo inference).
 *
 * @throws FewTreatedInputError K_EXCEEDS_POOL
 */
export function assertKFitsPool(k: number, pool: number): void {
  if (!Number.isInteger(k) || k < 1 || 2 * k + 1 > pool) {
    throw new FewTreatedInputError('K_EXCEEDS_POOL', `k = ${k} treated needs at least ${2 * k + 1} eligible territories, have ${pool}`, { k, pool });
  }
}

function gapSeries(p: PanelMatrix, fit: SynthFit): { treated: Float64Array; synthetic: Float64Array } {
  // synthetic = ω-weighted donors + the intercept that aligns the λ-weighted pre-periods (SDID/DiD);
  // SC has no intercept (λ = 0).
  const { n, n0, t, t0, y } = p;
  const tr = new Float64Array(t);
  const sy = new Float64Array(t);
  for (let c = 0; c < t; c++) {
    let a = 0;
    for (let i = n0; i < n; i++) a += y[i * t + c];
    tr[c] = a / (n - n0);
    let b = 0;
    for (let i = 0; i < n0; i++) b += fit.omega[i] * y[i * t + c];
    sy[c] = b;
  }
  let lsum = 0;
  let shift = 0;
  for (let c = 0; c < t0; c++) {
    lsum += fit.lambda[c];
    shift += fit.lambda[c] * (tr[c] - sy[c]);
  }
  if (fit.estimator !== 'sc' && lsum > 0) for (let c = 0; c < t; c++) sy[c] += shift / lsum;
  return { treated: tr, synthetic: sy };
}

function rmspe(gap: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let c = from; c < to; c++) s += gap[c] * gap[c];
  return Math.sqrt(s / (to - from));
}

/**
 * DiD, SC and SDID for a block of treated territories with a common start, with inference and fit
 * diagnostics.
 *
 * @param panel long panel (territory × week index, KPI value); donors with missing weeks are dropped
 * @param treated ids of the treated territories (1–5 in PilotLab's use; any N1 < donors works)
 * @param options preWeeks (required), replications (200), seed (1), level (0.95), permutation (true)
 * @returns per estimator: estimate (KPI units per week), placebo SE (Algorithm 4), CI and p (both from
 *   the placebo randomization test `permutationTestInversion` on `permutationDraws`: every other set
 *   of N1 territories when at most B, else B distinct random ones) and whether that p may decide,
 *   jackknife SE (> 1 treated), permutation p with its floor 1/(J + 1), attainable size and whether
 *   it may decide (`permutationDecision`), weights, RMSPE, series, placebo gaps and
 *   leave-one-donor-out estimates
 * @throws FewTreatedInputError (see buildPanelMatrix); K_EXCEEDS_POOL when donors ≤ treated
 */
export function analyseFewTreated(panel: FewTreatedPanel, treated: readonly string[], options: FewTreatedOptions): FewTreatedResult {
  const built = buildPanelMatrix(panel, treated, options.preWeeks, options.minPreWeeks ?? 4);
  const p = built.matrix;
  const n1 = p.n - p.n0;
  if (p.n0 <= n1) {
    throw new FewTreatedInputError('K_EXCEEDS_POOL', `${n1} treated need more than ${n1} donors, have ${p.n0}`, { treated: n1, donors: p.n0 });
  }
  const reps = options.replications ?? 200;
  const level = options.level ?? 0.95;
  // 1 − 0.95 is 0.050000000000000044 in binary: rounded, so that p = 2/40 is not counted as < α
  const alpha = Math.round((1 - level) * 1e12) / 1e12;
  const top = options.topDonors ?? 10;
  const { t, t0, n0 } = p;
  // poor fit: treated-block mean outside the donors' range in pre-period weeks
  let outside = 0;
  for (let c = 0; c < t0; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n0; i++) {
      lo = Math.min(lo, p.y[i * t + c]);
      hi = Math.max(hi, p.y[i * t + c]);
    }
    let a = 0;
    for (let i = n0; i < p.n; i++) a += p.y[i * t + c];
    a /= n1;
    if (a < lo || a > hi) outside++;
  }
  const estimates: FewTreatedEstimate[] = [];
  for (const est of options.estimators ?? (['did', 'sc', 'sdid'] as const)) {
    const fit = fitSynth(p, est);
    const pl = options.placeboSe ?? true ? placeboSe(p, fit, reps, createPrng(options.seed ?? 1)) : null;
    const se = pl && Number.isFinite(pl.se) && pl.se > 0 ? pl.se : null;
    const jk = n1 > 1 ? jackknifeSe(p, fit) : null;
    const g = gapSeries(p, fit);
    const gap = Array.from(g.treated, (v, c) => v - g.synthetic[c]);
    const preR = rmspe(gap, 0, t0);
    const postR = rmspe(gap, t0, t);
    // its own stream: the placebo SE's draws stay those of Algorithm 4 with the pilot's seed
    const perm = permutationDraws(p, est, reps, createPrng(((options.seed ?? 1) * 7919 + 17) % 2147483647));
    const test = permutationTestInversion(fit.estimate, perm.draws, alpha);
    // placebo in space: each donor as the single pseudo-treated unit among the other donors
    const placeboGaps: { unit: string; gap: number[] }[] = [];
    let atLeast = 1;
    const ratio = postR / preR;
    for (let j = 0; j < (options.permutation ?? true ? n0 : 0); j++) {
      const ind: number[] = [];
      for (let i = 0; i < n0; i++) if (i !== j) ind.push(i);
      ind.push(j);
      const yy = new Float64Array(ind.length * t);
      ind.forEach((r, k) => yy.set(p.y.subarray(r * t, (r + 1) * t), k * t));
      const sub: PanelMatrix = { y: yy, n: n0, t, n0: n0 - 1, t0 };
      if (sub.n0 < 1) break;
      const f = fitSynth(sub, est);
      const gg = gapSeries(sub, f);
      const gp = Array.from(gg.treated, (v, c) => v - gg.synthetic[c]);
      placeboGaps.push({ unit: built.donors[j], gap: gp });
      if (rmspe(gp, t0, t) / rmspe(gp, 0, t0) >= ratio) atLeast++;
    }
    let loo: { unit: string; estimate: number }[] | null = null;
    const order = Array.from(fit.omega, (w, i) => ({ i, w })).sort((a, b) => b.w - a.w);
    if (options.leaveOneOut ?? true) {
      loo = [];
      for (const { i } of order.filter((o) => o.w > 0).slice(0, top)) {
        if (n0 - 1 <= n1) break;
        const ind: number[] = [];
        for (let r = 0; r < p.n; r++) if (r !== i) ind.push(r);
        const yy = new Float64Array(ind.length * t);
        ind.forEach((r, k) => yy.set(p.y.subarray(r * t, (r + 1) * t), k * t));
        loo.push({ unit: built.donors[i], estimate: fitSynth({ y: yy, n: ind.length, t, n0: n0 - 1, t0 }, est).estimate });
      }
    }
    // J: donors refitted as pseudo-treated (each needs ≥ 1 other donor); the same J whether or not computed
    const jPlacebos = n0 > 1 ? n0 : 0;
    estimates.push({
      estimator: est,
      estimate: fit.estimate,
      placebo_se: se,
      jackknife_se: jk,
      inference_method: 'placebo_randomization',
      placebo_replications: test.replications,
      placebo_sets_exhaustive: perm.exhaustive,
      test_decision: rankTestDecision(test.replications, alpha),
      ci: test.ci,
      p_value: test.p_value,
      permutation_p: options.permutation ?? true ? atLeast / (placeboGaps.length + 1) : null,
      permutation_min_p: 1 / (jPlacebos + 1),
      permutation_attainable_size: rankTestAttainableSize(jPlacebos, alpha),
      permutation_decision: permutationDecision(n1, jPlacebos, alpha),
      unit_weights: order.slice(0, top).filter((o) => o.w > 0).map((o) => ({ unit: built.donors[o.i], weight: o.w })),
      time_weights: Array.from(fit.lambda, (w, c) => ({ week: built.weeks[c], weight: w })).filter((x) => x.weight > 0),
      pre_rmspe: preR,
      post_rmspe: postR,
      series: built.weeks.map((w, c) => ({ week: w, treated: g.treated[c], synthetic: g.synthetic[c], gap: gap[c] })),
      placebo_gaps: placeboGaps,
      leave_one_out: loo,
      leave_one_out_range: loo && loo.length ? [Math.min(...loo.map((l) => l.estimate)), Math.max(...loo.map((l) => l.estimate))] : null,
    });
  }
  return { treated: built.treated, donors: built.donors, weeks: built.weeks, pre_weeks: t0, outside_range_weeks: outside, poor_fit: outside > 0, estimates };
}
