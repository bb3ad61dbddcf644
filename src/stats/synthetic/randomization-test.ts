/**
 * The placebo randomization test of the few-treated estimators (issue 12; used by few-treated.ts,
 * analyseFewTreated): re-assignments of the treated set among all territories, p and CI by test
 * inversion from one method, and the attainable-size rules that say when a rank test may decide.
 * See docs/statistics.md, "Few treated territories".
 */
import type { Prng } from '../design/prng';
import { fitSynth, PanelMatrix, SynthEstimator } from './synthdid';

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
