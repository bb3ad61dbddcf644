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


/**
 * Lin's HC2 t (statistic 'lin_hc2_t') in closed form, arm by arm: the fully interacted model
 * y ~ 1 + T + Xc + T·Xc (Xc centred at the mean over `rows`) is the union of one regression
 * y ~ 1 + (x − x̄) per arm, so its residuals and leverages are the arms' own, its treatment
 * coefficient is the difference of the arms' intercepts α_T − α_C, and that coefficient's HC2
 * variance is V_T + V_C with V_a = Σ_{i∈a} c_i² e_i²/(1 − h_i), where α_a = Σ c_i y_i,
 * c_i = 1/n_a − (x̄_a − x̄)'S_a⁻¹(x_i − x̄_a), h_i = 1/n_a + (x_i − x̄_a)'S_a⁻¹(x_i − x̄_a), S_a the
 * arm's centred cross-product matrix (Lin 2013; MacKinnon & White 1985 for HC2). Identical to the
 * normal-equations fit of the whole model (randomization-t.ts `linHc2`, the 'direct' evaluation and
 * the test's second route) up to rounding, at O(n·q²) with no matrix of the whole model: the
 * randomization-t re-scores every reference assignment with it.
 *
 * @param ctx labels of the compared arms (ctx.tIdx, ctx.cIdx) and the covariate rows (ctx.cov, n × q)
 * @param labels arm label per unit; `rows` the units compared (observed value, label T or C)
 * @param y outcome per unit (units outside `rows` are not read)
 * @returns [estimate, t], both NaN when the model cannot be fitted the way `olsFit` + HC2 cannot:
 *   an arm with a singular S_a (fewer than q + 1 units, a covariate constant or collinear within the
 *   arm), a leverage within 1e-6 of 1, or a variance that is not positive
 */
export function linHc2PerArm(ctx: Ctx, labels: Uint8Array, y: Float64Array, rows: readonly number[]): [number, number] {
  const cov = ctx.cov!;
  const q = cov[0]?.length ?? 0;
  const m = new Float64Array(q);
  for (const i of rows) for (let a = 0; a < q; a++) m[a] += cov[i][a];
  for (let a = 0; a < q; a++) m[a] /= rows.length;
  let estimate = 0;
  let variance = 0;
  for (const arm of [ctx.tIdx, ctx.cIdx]) {
    const units = rows.filter((i) => labels[i] === arm);
    const na = units.length;
    if (na < q + 1) return [NaN, NaN];
    const xbar = new Float64Array(q);
    let ybar = 0;
    for (const i of units) {
      ybar += y[i];
      for (let a = 0; a < q; a++) xbar[a] += cov[i][a];
    }
    ybar /= na;
    for (let a = 0; a < q; a++) xbar[a] /= na;
    // S_a and Σ d_i (y_i − ȳ_a), then S_a⁻¹ through the correlation form (columns equilibrated)
    const S = Array.from({ length: q }, () => new Float64Array(q));
    const sy = new Float64Array(q);
    for (const i of units) {
      for (let a = 0; a < q; a++) {
        const da = cov[i][a] - xbar[a];
        sy[a] += da * (y[i] - ybar);
        for (let b = 0; b <= a; b++) S[a][b] += da * (cov[i][b] - xbar[b]);
      }
    }
    for (let a = 0; a < q; a++) for (let b = 0; b < a; b++) S[b][a] = S[a][b];
    const Sinv = invertSmall(S);
    if (!Sinv) return [NaN, NaN];
    const slope = new Float64Array(q);
    const g = new Float64Array(q);
    for (let a = 0; a < q; a++) {
      for (let b = 0; b < q; b++) {
        slope[a] += Sinv[a][b] * sy[b];
        g[a] += Sinv[a][b] * (xbar[b] - m[b]);
      }
    }
    let intercept = ybar;
    for (let a = 0; a < q; a++) intercept -= slope[a] * (xbar[a] - m[a]);
    let v = 0;
    const d = new Float64Array(q);
    for (const i of units) {
      let fitted = ybar;
      let gd = 0;
      for (let a = 0; a < q; a++) {
        d[a] = cov[i][a] - xbar[a];
        fitted += slope[a] * d[a];
        gd += g[a] * d[a];
      }
      let h = 1 / na;
      for (let a = 0; a < q; a++) {
        let sd = 0;
        for (let b = 0; b < q; b++) sd += Sinv[a][b] * d[b];
        h += d[a] * sd;
      }
      if (h >= 1 - 1e-6) return [NaN, NaN];
      const e = y[i] - fitted;
      const c = 1 / na - gd;
      v += (c * c * e * e) / (1 - h);
    }
    estimate += arm === ctx.tIdx ? intercept : -intercept;
    variance += v;
  }
  if (!(variance > 0)) return [NaN, NaN];
  return [estimate, estimate / Math.sqrt(variance)];
}

/**
 * Inverse of a small symmetric positive semi-definite matrix through its correlation form
 * D^{-1/2} S D^{-1/2} (Gauss–Jordan with partial pivoting, pivot threshold 1e-12 as `invertMatrix`);
 * null when a diagonal is 0 or a pivot falls under the threshold (collinear columns).
 */
function invertSmall(S: Float64Array[]): Float64Array[] | null {
  const q = S.length;
  const s = new Float64Array(q);
  for (let a = 0; a < q; a++) {
    if (!(S[a][a] > 0)) return null;
    s[a] = Math.sqrt(S[a][a]);
  }
  const m = Array.from({ length: q }, (_, a) => {
    const row = new Float64Array(2 * q);
    for (let b = 0; b < q; b++) row[b] = S[a][b] / (s[a] * s[b]);
    row[q + a] = 1;
    return row;
  });
  for (let col = 0; col < q; col++) {
    let piv = col;
    for (let r = col + 1; r < q; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
    if (Math.abs(m[piv][col]) <= 1e-12) return null;
    [m[col], m[piv]] = [m[piv], m[col]];
    const p = m[col][col];
    for (let j = 0; j < 2 * q; j++) m[col][j] /= p;
    for (let r = 0; r < q; r++) {
      if (r === col) continue;
      const f = m[r][col];
      if (f === 0) continue;
      for (let j = 0; j < 2 * q; j++) m[r][j] -= f * m[col][j];
    }
  }
  return m.map((row, a) => Float64Array.from({ length: q }, (_, b) => row[q + b] / (s[a] * s[b])));
}
