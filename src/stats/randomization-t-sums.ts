/**
 * Fast evaluation of the studentized randomization statistics (randomization-t.ts) over a stored
 * reference set, for the CI by test inversion: one pass over the assignments stores per-group sums,
 * after which each candidate effect costs O(groups) per assignment instead of O(n).
 */
import type { Ctx, StudentizedStatistic } from './randomization-t';

/** Sums kept per assignment: 12 numbers per group (stratum): for arm T then C, observed-treated (n, Σy, Σy²) then the others. */
const SUMS = 12;
/** Most stored numbers before the direct evaluation is used instead (memory bound, ~32 MB). */
const MAX_STORED = 4_000_000;

/**
 * Precomputed reference statistics as functions of a constant additive effect τ. Under the shift
 * y − τ·1[observed treatment], each group's n is unchanged and Σy, Σy² change as
 * Σ(y − τ) = S1 − τn, Σ(y − τ)² = S2 − 2τS1 + τ²n over the observed-treated part, so every
 * studentized statistic is computed from stored sums (Welch: one group = all units; strata: each
 * stratum; pairs: the signed pair differences s_p(D_p − τ), whose squares do not depend on s_p).
 * Outcomes are centred at their observed mean first (every statistic is shift-invariant).
 * Returns null when the statistic has no such form (lin_hc2_t) or the store would be too large.
 */
export function sufficientEvaluator(stat: StudentizedStatistic, ctx: Ctx, labels: readonly Uint8Array[], y: Float64Array, observed: Uint8Array): ((tau: number) => (b: number) => number) | null {
  const { n, tIdx, cIdx } = ctx;
  let centre = 0;
  let m = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(y[i])) (centre += y[i]), m++;
  centre = m ? centre / m : 0;
  const yc = Float64Array.from(y, (v) => v - centre);
  if (stat === 'paired_t') {
    // defined pairs: one observed-treated and one observed-control unit, both values present
    const pairs: [number, number][] = [];
    for (const units of ctx.strata) {
      let t = -1;
      let c = -1;
      for (const u of units) {
        if (observed[u] === tIdx) t = u;
        else if (observed[u] === cIdx) c = u;
      }
      if (t >= 0 && c >= 0 && !Number.isNaN(yc[t]) && !Number.isNaN(yc[c])) pairs.push([t, c]);
    }
    const P = pairs.length;
    const D = Float64Array.from(pairs, ([t, c]) => yc[t] - yc[c]);
    // per assignment: A_b = Σ s_p D_p and C_b = Σ s_p, s_p = +1 when the observed-treated unit is labelled treated
    const A = new Float64Array(labels.length);
    const C = new Float64Array(labels.length);
    labels.forEach((l, b) => {
      let a = 0;
      let cs = 0;
      for (let p = 0; p < P; p++) {
        const sgn = l[pairs[p][0]] === tIdx ? 1 : -1;
        a += sgn * D[p];
        cs += sgn;
      }
      A[b] = a;
      C[b] = cs;
    });
    return (tau) => {
      let q = 0;
      for (let p = 0; p < P; p++) q += (D[p] - tau) ** 2;
      return (b) => {
        if (P < 2) return NaN;
        const mean = (A[b] - tau * C[b]) / P;
        return mean / Math.sqrt(Math.max(0, q - P * mean * mean) / (P - 1) / P);
      };
    };
  }
  if (stat !== 'welch_t' && stat !== 'stratified_t') return null;
  const groupOf = new Int32Array(n).fill(0);
  let G = 1;
  if (stat === 'stratified_t') {
    ctx.strata.forEach((units, g) => units.forEach((u) => (groupOf[u] = g)));
    G = ctx.strata.length;
  }
  if (labels.length * G * SUMS > MAX_STORED) return null;
  const sums = new Float64Array(labels.length * G * SUMS);
  labels.forEach((l, b) => {
    const base = b * G * SUMS;
    for (let i = 0; i < n; i++) {
      const v = yc[i];
      if (Number.isNaN(v)) continue;
      const arm = l[i] === tIdx ? 0 : l[i] === cIdx ? 1 : -1;
      if (arm < 0) continue;
      const k = base + groupOf[i] * SUMS + arm * 6 + (observed[i] === tIdx ? 0 : 3);
      sums[k] += 1;
      sums[k + 1] += v;
      sums[k + 2] += v * v;
    }
  });
  // mean and variance of one arm of one group at τ, from the stored sums at offset k
  const arm = (k: number, tau: number, out: Float64Array): void => {
    const nA = sums[k];
    const s1 = sums[k + 1] - tau * nA + sums[k + 4];
    const s2 = sums[k + 2] - 2 * tau * sums[k + 1] + tau * tau * nA + sums[k + 5];
    const nn = nA + sums[k + 3];
    out[0] = nn;
    out[1] = nn > 0 ? s1 / nn : NaN;
    out[2] = nn > 1 ? Math.max(0, s2 - s1 * out[1]) / (nn - 1) : NaN;
  };
  const t = new Float64Array(3);
  const c = new Float64Array(3);
  return (tau) => (b) => {
    const base = b * G * SUMS;
    if (stat === 'welch_t') {
      arm(base, tau, t);
      arm(base + 6, tau, c);
      if (t[0] < 2 || c[0] < 2) return NaN;
      return (t[1] - c[1]) / Math.sqrt(t[2] / t[0] + c[2] / c[0]);
    }
    let total = 0;
    let est = 0;
    let variance = 0;
    for (let g = 0; g < G; g++) {
      const k = base + g * SUMS;
      arm(k, tau, t);
      arm(k + 6, tau, c);
      if (t[0] + c[0] === 0) continue;
      if (t[0] < 2 || c[0] < 2) return NaN;
      const ns = t[0] + c[0];
      total += ns;
      est += ns * (t[1] - c[1]);
      variance += ns * ns * (t[2] / t[0] + c[2] / c[0]);
    }
    // Σ (n_s/N) d_s and Σ (n_s/N)² v_s, with N factored out of both
    return est / total / (Math.sqrt(variance) / total);
  };
}

