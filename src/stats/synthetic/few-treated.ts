/**
 * Few-treated analysis (1–5 treated territories): DiD, SC and SDID side by side (the paper's Table 1)
 * on a territory × week panel, with placebo SEs (Algorithm 4), jackknife (Algorithm 3, > 1 treated),
 * the placebo-in-space permutation p-value (Abadie et al. 2010: ranked by post/pre RMSPE ratio) and
 * fit diagnostics. The CI and p of every estimator come from one method, the placebo randomization
 * test over re-assignments of the treated set among all territories (`permutationTestInversion`); the normal reference
 * τ̂ ± z·SE over-rejected on the calibration bench (issue 12). See synthdid.ts for the estimators
 * and docs/statistics.md for the conventions.
 */
import { createPrng } from '../design/prng';
import { permutationDecision, permutationDraws, permutationTestInversion, rankTestAttainableSize, rankTestDecision } from './randomization-test';
import { fitSynth, jackknifeSe, PanelMatrix, placeboSe, SynthEstimator, SynthFit } from './synthdid';

/** A typed bad-input error (the later API maps it to 422). */
export class FewTreatedInputError extends Error {
  constructor(
    readonly code:
      | 'PRE_PERIOD_TOO_SHORT'
      | 'EMPTY_DONOR_POOL'
      | 'TREATED_MISSING_WEEKS'
      | 'K_EXCEEDS_POOL'
      | 'INVALID_PANEL'
      | 'CAP_EXCLUDES_ALL'
      | 'SELECTION_INFEASIBLE',
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
