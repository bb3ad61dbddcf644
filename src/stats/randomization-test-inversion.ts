/**
 * Confidence interval of a randomization test by test inversion over constant additive effects
 * (Imbens & Rubin 2015, §5.7; details in the header of randomization-inference.ts): the set
 * {τ : p(τ) ≥ α}, where p(τ) is the randomization p of the outcomes y − τ·1[observed treatment].
 * The difference in means being linear in the outcomes, the statistic of reference assignment a is
 * u_a − τ·v_a, so the run stores the pairs (u_a, v_a) once (`makeReferenceStore`) and each p(τ) is
 * one pass over them (`invertTest`).
 */
import type { RandomizationCi } from './randomization-inference';

/** The stored reference statistics u_a (on y) and v_a (on the treatment indicator). */
export interface ReferenceStore {
  /** stores u (unless NaN) with the current v = vOut[0] */
  keep: (u: number) => void;
  /** the stored u_a (a view, valid until the next `keep`) */
  u: () => Float64Array;
  /** the stored v_a, same order */
  v: () => Float64Array;
}

/**
 * A growing store of the (u_a, v_a) pairs of the reference set (capacity doubled when full).
 *
 * @param capacity initial capacity (PilotLab: min(2^16, number of assignments or draws))
 * @param vOut the one-element output where the statistic writes v_a of the assignment just scored
 */
export function makeReferenceStore(capacity: number, vOut: Float64Array): ReferenceStore {
  let us: Float64Array = new Float64Array(capacity);
  let vs: Float64Array = new Float64Array(us.length);
  let stored = 0;
  const keep = (u: number): void => {
    if (Number.isNaN(u)) return;
    if (stored === us.length) {
      const bigger = new Float64Array(us.length * 2);
      bigger.set(us);
      us = bigger;
      const biggerV = new Float64Array(vs.length * 2);
      biggerV.set(vs);
      vs = biggerV;
    }
    us[stored] = u;
    vs[stored] = vOut[0];
    stored++;
  };
  return { keep, u: () => us.subarray(0, stored), v: () => vs.subarray(0, stored) };
}

/** p(τ) = min(1, (plusOne + #{|u_a − τ·v_a| ≥ |T_obs − τ| − tol}) / (m + plusOne)). */
function pValueFunction(u: Float64Array, v: Float64Array, observed: number, plusOne: number): (tau: number) => number {
  const m = u.length;
  const denominator = m + plusOne;
  return (tau: number): number => {
    const obs = Math.abs(observed - tau);
    const tol = 1e-9 * Math.max(1, obs);
    let c = plusOne;
    for (let i = 0; i < m; i++) if (Math.abs(u[i] - tau * v[i]) >= obs - tol) c++;
    return Math.min(1, c / denominator);
  };
}

/**
 * One bound of {τ : p(τ) ≥ α} on the side `direction` of the observed statistic: steps of
 * `scale` doubled until p < α (null after 60 doublings: unbounded), then bisection to 1e-10·scale.
 */
function searchBound(pAt: (tau: number) => number, observed: number, scale: number, alpha: number, direction: -1 | 1): number | null {
  let inner = observed;
  let h = scale;
  let outer = observed + direction * h;
  let steps = 0;
  while (pAt(outer) >= alpha) {
    inner = outer;
    h *= 2;
    outer = observed + direction * h;
    if (++steps > 60) return null;
  }
  for (let i = 0; i < 200 && Math.abs(outer - inner) > 1e-10 * scale; i++) {
    const mid = (inner + outer) / 2;
    if (pAt(mid) >= alpha) inner = mid;
    else outer = mid;
  }
  return inner;
}

/**
 * CI by test inversion over constant additive effects (see the file header): p(τ) over the stored
 * reference statistics u_a and v_a, bounds by doubling then bisection to 1e-10 of the interval's
 * scale (max(|T_obs|, max |u_a|), 1 when 0). When the p-value function is not monotone the interval
 * is widened to contain 0 if p ≥ α, and `note` says so.
 *
 * @param u reference statistics on y; v the same statistics on the observed-treatment indicator
 * @param observed the observed statistic
 * @param plusOne exact: 0; Monte Carlo: 1 (the observed assignment counts in every p(τ))
 * @param p0 the test's two-sided p (p(0))
 * @param alpha 1 − level, in (0, 1)
 * @returns status 'unbounded' with null bounds when no τ is rejected on either side; a half-line
 *   (status 'unbounded', the open side null, the other bound finite, `note` naming it) when only one
 *   side is unbounded
 */
export function invertTest(u: Float64Array, v: Float64Array, observed: number, plusOne: number, p0: number, alpha: number): RandomizationCi {
  const pAt = pValueFunction(u, v, observed, plusOne);
  let scale = Math.abs(observed);
  for (let i = 0; i < u.length; i++) scale = Math.max(scale, Math.abs(u[i]));
  if (!(scale > 0)) scale = 1;
  const base = { level: 1 - alpha, method: 'test inversion, constant additive effect' as const };
  let low = searchBound(pAt, observed, scale, alpha, -1);
  let high = searchBound(pAt, observed, scale, alpha, 1);
  if (low === null && high === null) return { ...base, low: null, high: null, status: 'unbounded', note: 'no constant effect is rejected: the smallest attainable p is at least alpha' };
  if (low === null || high === null) {
    // A half-line: far enough out on one side, enough re-drawn assignments move with τ (|v_a| ≥ 1)
    // that p(τ) stays ≥ α, so that side is unbounded; the other bound is finite and kept, so the set
    // still excludes 0 exactly when the test rejects it (pitfall P7). The open side is null in JSON.
    const bound = (low ?? high) as number;
    const open = low === null ? 'below' : 'above';
    const shown = low === null ? `(−∞, ${bound.toPrecision(6)}]` : `[${bound.toPrecision(6)}, ∞)`;
    return {
      ...base,
      low,
      high,
      status: 'unbounded',
      note: `the confidence set is the half-line ${shown}: no constant effect ${open} the estimate is rejected at this level (too few re-drawn assignments move with the effect on that side)`,
    };
  }
  let note: string | null = null;
  if (p0 >= alpha && (low > 0 || high < 0)) {
    low = Math.min(low, 0);
    high = Math.max(high, 0);
    note = 'the p-value function is not monotone in the effect; the interval was widened to contain 0 because p ≥ alpha';
  } else if (p0 < alpha && low <= 0 && high >= 0) {
    note = 'the p-value function is not monotone in the effect: p < alpha but the interval reaches 0';
  }
  return { ...base, low, high, status: 'ok', note };
}
