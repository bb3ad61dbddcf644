/**
 * Synthetic difference-in-differences, synthetic control and DiD on a balanced N × T matrix with a
 * block of treated units (the last N1 rows) treated in the last T1 periods (the same start for all).
 *
 * Source: Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), "Synthetic Difference-in-Differences",
 * AER 111(12), Algorithm 1 (estimator), Algorithm 3 (jackknife), Algorithm 4 (placebo variance); the
 * numerical recipe follows the authors' R package `synthdid` (synth-inference/synthdid): Frank–Wolfe
 * `sc.weight.fw` with `min.decrease = 1e-5·σ` (stopping when the objective falls by less than
 * min.decrease²), 100 iterations before and 10,000 after the sparsify step (weights ≤ max/4 set to 0),
 * ζ_ω = (N1·T1)^(1/4)·σ, ζ_λ = 1e-6·σ, σ = sd of the first differences of the control outcomes in
 * the pre-period. SC (Abadie, Diamond & Hainmueller 2010) is the same solver with ζ_ω = 1e-6·σ, no
 * intercept and no time weights; DiD uses uniform weights.
 */
import type { Prng } from '../design/prng';

/** Which of the three estimators of the paper's Table 1. */
export type SynthEstimator = 'did' | 'sc' | 'sdid';

/** A panel matrix: rows = units (controls first, then treated), columns = periods. */
export interface PanelMatrix {
  /** row-major N × T values */
  y: Float64Array;
  n: number;
  t: number;
  /** number of control rows (the first n0) */
  n0: number;
  /** number of pre-period columns (the first t0) */
  t0: number;
}

/** Fitted weights and regularisation of one estimate (enough to refit it for inference). */
export interface SynthFit {
  estimator: SynthEstimator;
  estimate: number;
  /** unit weights ω over the n0 controls (sum 1, ≥ 0) */
  omega: Float64Array;
  /** time weights λ over the t0 pre-periods (sum 1, ≥ 0; all 0 for SC) */
  lambda: Float64Array;
  /** the settings the fit used; inference refits reuse them (the package's `opts`) */
  opts: SynthOptions;
}

/** Solver settings (`synthdid_estimate` arguments). */
export interface SynthOptions {
  zetaOmega: number;
  zetaLambda: number;
  omegaIntercept: boolean;
  updateOmega: boolean;
  updateLambda: boolean;
  minDecrease: number;
  maxIter: number;
  maxIterPreSparsify: number;
  /** noise level σ (for the record) */
  noiseLevel: number;
}

/** Frank–Wolfe on the simplex: the package's `sc.weight.fw` (rows = observations, last column = target). */
function scWeightFw(
  a: Float64Array,
  rows: number,
  cols: number,
  zeta: number,
  intercept: boolean,
  start: Float64Array | null,
  minDecrease: number,
  maxIter: number,
): Float64Array {
  // a is rows × (cols + 1), the last column is b
  const w = cols + 1;
  const m = new Float64Array(a);
  if (intercept) {
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += m[i * w + j];
      const mu = s / rows;
      for (let i = 0; i < rows; i++) m[i * w + j] -= mu;
    }
  }
  const x = start ? new Float64Array(start) : new Float64Array(cols).fill(1 / cols);
  const eta = rows * zeta * zeta;
  const zeta2 = zeta * zeta;
  // Gram form (exactly the same iterates as the package, O(cols) per iteration):
  // G = AᵀA, c = Aᵀb, bb = bᵀb; ‖Ax − b‖² = xᵀGx − 2cᵀx + bb.
  const g = new Float64Array(cols * cols);
  const cvec = new Float64Array(cols);
  let bb = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * w;
    const bi = m[o + cols];
    bb += bi * bi;
    for (let j = 0; j < cols; j++) {
      const aij = m[o + j];
      if (aij === 0) continue;
      cvec[j] += aij * bi;
      const gj = j * cols;
      for (let k = j; k < cols; k++) g[gj + k] += aij * m[o + k];
    }
  }
  for (let j = 0; j < cols; j++) for (let k = j + 1; k < cols; k++) g[k * cols + j] = g[j * cols + k];
  const gx = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += g[j * cols + k] * x[k];
    gx[j] = s;
  }
  let xgx = 0;
  let cx = 0;
  let x2 = 0;
  for (let j = 0; j < cols; j++) {
    xgx += x[j] * gx[j];
    cx += cvec[j] * x[j];
    x2 += x[j] * x[j];
  }
  const md2 = minDecrease * minDecrease;
  let prev2 = NaN;
  let prev1 = NaN;
  for (let t = 0; t < maxIter; t++) {
    if (t >= 2 && !(prev2 - prev1 > md2)) break;
    // half gradient (Ax − b)ᵀA + ηx = Gx − c + ηx; i = argmin
    let imin = 0;
    let gmin = Infinity;
    let gdotx = 0;
    for (let j = 0; j < cols; j++) {
      const gr = gx[j] - cvec[j] + eta * x[j];
      gdotx += gr * x[j];
      if (gr < gmin) {
        gmin = gr;
        imin = j;
      }
    }
    // d = e_i − x; gᵀd = g_i − gᵀx; ‖d‖² = 1 − 2x_i + ‖x‖²; ‖A_i − Ax‖² = G_ii − 2(Gx)_i + xᵀGx
    const xi = x[imin];
    const allZero = xi === 1 && x2 === 1;
    if (!allZero) {
      const gd = gmin - gdotx;
      const dx2 = 1 - 2 * xi + x2;
      const de2 = g[imin * cols + imin] - 2 * gx[imin] + xgx;
      const step = -gd / (de2 + eta * dx2);
      const s = Math.min(1, Math.max(0, Number.isFinite(step) ? step : 0));
      if (s > 0) {
        const r = 1 - s;
        const gi = imin * cols;
        const gxi = gx[imin];
        const gii = g[gi + imin];
        // new xᵀGx = r²·xᵀGx + 2rs·(Gx)_i + s²·G_ii
        xgx = r * r * xgx + 2 * r * s * gxi + s * s * gii;
        cx = r * cx + s * cvec[imin];
        x2 = r * r * x2 + 2 * r * s * xi + s * s;
        for (let j = 0; j < cols; j++) {
          x[j] *= r;
          gx[j] = r * gx[j] + s * g[gi + j];
        }
        x[imin] += s;
      }
    }
    const err2 = Math.max(0, xgx - 2 * cx + bb);
    prev2 = prev1;
    prev1 = zeta2 * x2 + err2 / rows;
  }
  return x;
}

/** Weights ≤ max/4 set to 0, then renormalised (the package's `sparsify_function`). */
function sparsify(v: Float64Array): Float64Array {
  let mx = -Infinity;
  for (const e of v) mx = Math.max(mx, e);
  const out = new Float64Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    out[i] = v[i] <= mx / 4 ? 0 : v[i];
    s += out[i];
  }
  for (let i = 0; i < v.length; i++) out[i] /= s;
  return out;
}

/** x / sum(x), or uniform when the sum is 0 (the package's `sum_normalize`). */
export function sumNormalize(x: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = s !== 0 ? x[i] / s : 1 / x.length;
  return out;
}

/**
 * σ: the sample SD (n − 1) of all first differences y[i, t+1] − y[i, t] of the controls over the
 * pre-period (the package's `noise.level`). NaN when fewer than 2 differences.
 */
export function noiseLevel(p: PanelMatrix): number {
  const d: number[] = [];
  for (let i = 0; i < p.n0; i++) for (let t = 1; t < p.t0; t++) d.push(p.y[i * p.t + t] - p.y[i * p.t + t - 1]);
  if (d.length < 2) return NaN;
  const mu = d.reduce((a, b) => a + b, 0) / d.length;
  return Math.sqrt(d.reduce((a, b) => a + (b - mu) * (b - mu), 0) / (d.length - 1));
}

/** Default options of `synthdid_estimate` / `sc_estimate` / `did_estimate` for a panel. */
export function defaultOptions(p: PanelMatrix, estimator: SynthEstimator): SynthOptions {
  const sigma = noiseLevel(p);
  const n1 = p.n - p.n0;
  const t1 = p.t - p.t0;
  const etaOmega = estimator === 'sc' ? 1e-6 : Math.pow(n1 * t1, 0.25);
  return {
    zetaOmega: etaOmega * sigma,
    zetaLambda: 1e-6 * sigma,
    omegaIntercept: estimator !== 'sc',
    updateOmega: estimator !== 'did',
    updateLambda: estimator === 'sdid',
    minDecrease: 1e-5 * sigma,
    maxIter: 10_000,
    maxIterPreSparsify: 100,
    noiseLevel: sigma,
  };
}

/**
 * Fits one estimator: the package's `synthdid_estimate` (no covariates) on the collapsed form.
 *
 * @param p panel with controls first; needs n0 ≥ 1, n > n0, 1 ≤ t0 < t
 * @param estimator 'did' | 'sc' | 'sdid'
 * @param init starting / fixed weights (fixed when the matching update flag in `opts` is false)
 * @param opts solver settings; default `defaultOptions(p, estimator)`
 * @returns the estimate τ̂ = (−ω, 1/N1)ᵀ Y (−λ, 1/T1) with its weights (units of y)
 */
export function fitSynth(
  p: PanelMatrix,
  estimator: SynthEstimator,
  init: { omega?: Float64Array; lambda?: Float64Array } = {},
  opts: SynthOptions = defaultOptions(p, estimator),
): SynthFit {
  const { n, t, n0, t0, y } = p;
  const n1 = n - n0;
  const t1 = t - t0;
  let omega = init.omega ?? (estimator === 'did' ? new Float64Array(n0).fill(1 / n0) : null);
  let lambda =
    init.lambda ?? (estimator === 'did' ? new Float64Array(t0).fill(1 / t0) : estimator === 'sc' ? new Float64Array(t0) : null);
  const needLambda = opts.updateLambda || lambda === null;
  const needOmega = opts.updateOmega || omega === null;
  if (needLambda || needOmega) {
    // collapsed form: (n0 + 1) × (t0 + 1)
    const w = t0 + 1;
    const yc = new Float64Array((n0 + 1) * w);
    for (let i = 0; i < n0; i++) {
      let s = 0;
      for (let c = 0; c < t; c++) {
        const v = y[i * t + c];
        if (c < t0) yc[i * w + c] = v;
        else s += v;
      }
      yc[i * w + t0] = s / t1;
    }
    let tot = 0;
    for (let i = n0; i < n; i++) {
      for (let c = 0; c < t; c++) {
        const v = y[i * t + c];
        if (c < t0) yc[n0 * w + c] += v / n1;
        else tot += v;
      }
    }
    yc[n0 * w + t0] = tot / (n1 * t1);
    if (needLambda) {
      // rows = controls, columns = pre-periods, target = post mean
      const a = yc.subarray(0, n0 * w);
      let l = scWeightFw(a, n0, t0, opts.zetaLambda, true, lambda, opts.minDecrease, opts.maxIterPreSparsify);
      l = scWeightFw(a, n0, t0, opts.zetaLambda, true, sparsify(l), opts.minDecrease, opts.maxIter);
      lambda = l;
    }
    if (needOmega) {
      // transpose of Yc[, 1:t0]: rows = pre-periods, columns = controls, target = treated mean
      const wc = n0 + 1;
      const a = new Float64Array(t0 * wc);
      for (let c = 0; c < t0; c++) for (let i = 0; i <= n0; i++) a[c * wc + i] = yc[i * w + c];
      let o = scWeightFw(a, t0, n0, opts.zetaOmega, opts.omegaIntercept, omega, opts.minDecrease, opts.maxIterPreSparsify);
      o = scWeightFw(a, t0, n0, opts.zetaOmega, opts.omegaIntercept, sparsify(o), opts.minDecrease, opts.maxIter);
      omega = o;
    }
  }
  const om = omega as Float64Array;
  const la = lambda as Float64Array;
  let est = 0;
  for (let i = 0; i < n; i++) {
    const wi = i < n0 ? -om[i] : 1 / n1;
    if (wi === 0) continue;
    let s = 0;
    for (let c = 0; c < t; c++) s += y[i * t + c] * (c < t0 ? -la[c] : 1 / t1);
    est += wi * s;
  }
  return { estimator, estimate: est, omega: om, lambda: la, opts };
}

/** Rows `ind` of a panel (controls must come first in `ind`, `n0` of them). */
function subPanel(p: PanelMatrix, ind: ArrayLike<number>, n0: number): PanelMatrix {
  const y = new Float64Array(ind.length * p.t);
  for (let r = 0; r < ind.length; r++) y.set(p.y.subarray(ind[r] * p.t, (ind[r] + 1) * p.t), r * p.t);
  return { y, n: ind.length, t: p.t, n0, t0: p.t0 };
}

/**
 * Placebo standard error (Algorithm 4; the package's `placebo_se`): `replications` times, a random
 * permutation of the controls, the last N1 of them as pseudo-treated, refit with the original
 * options (weights warm-started from the fitted ω restricted and renormalised, λ from the fit), and
 * SE = sqrt((B − 1)/B) · sd(τ̂_b).
 *
 * @throws RangeError when n0 ≤ N1 (not enough controls; the package's condition)
 */
export function placeboSe(p: PanelMatrix, fit: SynthFit, replications: number, rng: Prng): { se: number; draws: Float64Array } {
  const n1 = p.n - p.n0;
  if (p.n0 <= n1) throw new RangeError('placebo SE needs more controls than treated units');
  const draws = new Float64Array(replications);
  const perm = Array.from({ length: p.n0 }, (_, i) => i);
  const n0b = p.n0 - n1;
  for (let b = 0; b < replications; b++) {
    rng.shuffle(perm);
    const sub = subPanel(p, perm, n0b);
    const om = sumNormalize(perm.slice(0, n0b).map((i) => fit.omega[i]));
    draws[b] = fitSynth(sub, fit.estimator, { omega: om, lambda: fit.lambda }, fit.opts).estimate;
  }
  return { se: Math.sqrt((replications - 1) / replications) * sd(draws), draws };
}

/**
 * Jackknife SE with fixed weights (Algorithm 3; the package's `jackknife_se` with weights): each unit
 * (control or treated) left out in turn, ω renormalised, λ kept. Null when there is one treated unit
 * or one control with non-zero weight (not defined there, as in the package).
 */
export function jackknifeSe(p: PanelMatrix, fit: SynthFit): number | null {
  if (p.n0 === p.n - 1) return null;
  let nz = 0;
  for (const w of fit.omega) if (w !== 0) nz++;
  if (nz === 1) return null;
  const opts = { ...fit.opts, updateOmega: false, updateLambda: false };
  const u = new Float64Array(p.n);
  for (let leave = 0; leave < p.n; leave++) {
    const ind: number[] = [];
    for (let i = 0; i < p.n; i++) if (i !== leave) ind.push(i);
    const n0 = leave < p.n0 ? p.n0 - 1 : p.n0;
    const sub = subPanel(p, ind, n0);
    const om = sumNormalize(ind.filter((i) => i < p.n0).map((i) => fit.omega[i]));
    u[leave] = fitSynth(sub, fit.estimator, { omega: om, lambda: fit.lambda }, opts).estimate;
  }
  const n = p.n;
  return Math.sqrt(((n - 1) / n) * (n - 1) * sd(u) ** 2);
}

/** Sample SD (n − 1). */
function sd(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const mu = s / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mu) ** 2;
  return Math.sqrt(v / (x.length - 1));
}
