/**
 * Covariate balance between arms as one number: the Mahalanobis distance M of the arm means, used
 * by rerandomization (Morgan & Rubin 2012, Annals of Statistics 40) and reported in the balance
 * table with its chi-square p-value.
 *
 * Definition (A arms, k covariates, n units, x̄ the mean over all units, S the sample covariance
 * matrix of the covariates over all units, divisor n − 1):
 *
 *     M = Σ_a n_a (x̄_a − x̄)ᵀ S⁻¹ (x̄_a − x̄)
 *
 * For two arms this is Morgan & Rubin's M = (x̄_T − x̄_C)ᵀ [S (1/n_T + 1/n_C)]⁻¹ (x̄_T − x̄_C), because
 * Σ_a n_a (x̄_a − x̄)(x̄_a − x̄)ᵀ = (n_T n_C / n)(x̄_T − x̄_C)(x̄_T − x̄_C)ᵀ. Under complete randomization M is
 * asymptotically χ² with k(A − 1) degrees of freedom (for A > 2 this is the multi-arm
 * generalisation used by Branson, Dasgupta & Rubin 2016, Annals of Applied Statistics 10).
 *
 * Missing covariate values are mean-imputed (mean over the units that have a value; never 0), and a
 * covariate that is constant, or a linear combination of earlier ones, is dropped (its pivot in the
 * Cholesky factorisation is ≤ 1e-10 of its variance); both are reported.
 */
import { chiSquareCdf, chiSquareSf } from '../distributions';
import { DesignError } from './allocation';

/** Covariate matrix prepared for fast Mahalanobis distances: whitened rows z_i = L⁻¹(x_i − x̄). */
export interface WhitenedCovariates {
  /** covariates kept, in input order */
  covariates: string[];
  /** covariates dropped: constant, collinear, or without any value */
  dropped: { covariate: string; reason: 'constant_or_collinear' | 'no_values' }[];
  /** covariates with at least one mean-imputed value, and how many values were imputed */
  imputed: { covariate: string; n_imputed: number }[];
  n_units: number;
  /** k = number of covariates kept */
  k: number;
  /** row-major n × k whitened values; Σ_i z_i = 0 and Σ_i z_i z_iᵀ = (n − 1)·I */
  z: Float64Array;
}

/**
 * Prepares the covariates of n units for Mahalanobis distances: mean-imputes missing values, drops
 * constant and collinear covariates, and whitens the rows with the Cholesky factor of S.
 *
 * @param names covariate names (columns), in order
 * @param rows one entry per unit: value per covariate name; null/undefined = missing
 * @throws DesignError on a non-finite value or fewer than 2 units
 */
export function whitenCovariates(names: readonly string[], rows: readonly Record<string, number | null | undefined>[]): WhitenedCovariates {
  const n = rows.length;
  if (n < 2) throw new DesignError(`a Mahalanobis distance needs at least 2 territories, got ${n}`);
  const dropped: WhitenedCovariates['dropped'] = [];
  const imputed: WhitenedCovariates['imputed'] = [];
  const cols: { name: string; values: Float64Array }[] = [];
  for (const name of names) {
    let sum = 0;
    let count = 0;
    for (const r of rows) {
      const v = r[name];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new DesignError(`covariate '${name}' has a non-finite value`);
      sum += v;
      count++;
    }
    if (count === 0) {
      dropped.push({ covariate: name, reason: 'no_values' });
      continue;
    }
    const m = sum / count;
    const values = new Float64Array(n);
    rows.forEach((r, i) => {
      const v = r[name];
      values[i] = v === null || v === undefined ? m : v;
    });
    if (count < n) imputed.push({ covariate: name, n_imputed: n - count });
    // centre (two-pass)
    let mean = 0;
    for (let i = 0; i < n; i++) mean += values[i];
    mean /= n;
    for (let i = 0; i < n; i++) values[i] -= mean;
    cols.push({ name, values });
  }
  // Cholesky of S = XᵀX/(n − 1) column by column, dropping columns whose pivot vanishes.
  const kept: { name: string; values: Float64Array }[] = [];
  const L: number[][] = [];
  for (const col of cols) {
    const p = kept.length;
    const s = new Array<number>(p + 1).fill(0);
    for (let j = 0; j < p; j++) {
      let dot = 0;
      const cj = kept[j].values;
      for (let i = 0; i < n; i++) dot += col.values[i] * cj[i];
      s[j] = dot / (n - 1);
    }
    let diag = 0;
    for (let i = 0; i < n; i++) diag += col.values[i] * col.values[i];
    diag /= n - 1;
    // row p of L: L[p][j] = (s_j − Σ_{m<j} L[p][m] L[j][m]) / L[j][j]
    const row = new Array<number>(p + 1).fill(0);
    for (let j = 0; j < p; j++) {
      let v = s[j];
      for (let m = 0; m < j; m++) v -= row[m] * L[j][m];
      row[j] = v / L[j][j];
    }
    let pivot = diag;
    for (let m = 0; m < p; m++) pivot -= row[m] * row[m];
    if (!(diag > 0) || !(pivot > 1e-10 * diag)) {
      dropped.push({ covariate: col.name, reason: 'constant_or_collinear' });
      continue;
    }
    row[p] = Math.sqrt(pivot);
    L.push(row);
    kept.push(col);
  }
  const k = kept.length;
  const z = new Float64Array(n * k);
  // z_i = L⁻¹ x_i by forward substitution
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let v = kept[j].values[i];
      for (let m = 0; m < j; m++) v -= L[j][m] * z[i * k + m];
      z[i * k + j] = v / L[j][j];
    }
  }
  return { covariates: kept.map((c) => c.name), dropped, imputed, n_units: n, k, z };
}

/**
 * Builds a fast M(labels) for arm-label vectors over the same units as `w` (label = arm index
 * 0..nArms − 1; labels ≥ nArms are ignored, e.g. territories outside the compared arms). No
 * allocation per call. M = Σ_a n_a ‖z̄_a‖² (z whitened, so this is the formula of the module doc).
 *
 * @param w whitened covariates (whitenCovariates)
 * @param nArms number of arms
 */
export function mahalanobisOfLabels(w: WhitenedCovariates, nArms: number): (labels: Uint8Array) => number {
  const { k, n_units: n, z } = w;
  const sums = new Float64Array(nArms * k);
  const counts = new Int32Array(nArms);
  return (labels) => {
    if (k === 0) return 0;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      if (a >= nArms) continue;
      counts[a]++;
      const base = a * k;
      const row = i * k;
      for (let j = 0; j < k; j++) sums[base + j] += z[row + j];
    }
    let m = 0;
    for (let a = 0; a < nArms; a++) {
      if (counts[a] === 0) continue;
      let sq = 0;
      for (let j = 0; j < k; j++) {
        const v = sums[a * k + j];
        sq += v * v;
      }
      m += sq / counts[a];
    }
    // z has Σ z_i z_iᵀ = (n − 1) I, i.e. unit sample covariance; Σ_a n_a ‖z̄_a‖² = Σ_a ‖sum_a‖²/n_a
    return m;
  };
}

/** The Mahalanobis balance of one assignment, as reported in the balance table. */
export interface MahalanobisBalance {
  /** M (unitless) */
  distance: number;
  /** k(A − 1) */
  df: number;
  /** P(χ²_df ≥ M): asymptotic probability of a distance at least this large under complete randomization */
  p_value: number;
  covariates: string[];
  dropped: WhitenedCovariates['dropped'];
  imputed: WhitenedCovariates['imputed'];
  missing_values: 'mean-imputed';
}

/**
 * Mahalanobis distance of an assignment with its χ² p-value (see module doc).
 *
 * @param names covariate names
 * @param rows covariate values per unit (null = missing, mean-imputed)
 * @param armOfUnit arm index per unit (0..nArms − 1)
 * @param nArms number of arms A ≥ 2
 * @returns null when no covariate is usable (all dropped) or fewer than 2 units
 */
export function mahalanobisBalance(
  names: readonly string[],
  rows: readonly Record<string, number | null | undefined>[],
  armOfUnit: readonly number[],
  nArms: number,
): MahalanobisBalance | null {
  if (rows.length < 2) return null;
  const w = whitenCovariates(names, rows);
  if (w.k === 0) return null;
  const distance = mahalanobisOfLabels(w, nArms)(Uint8Array.from(armOfUnit));
  const df = w.k * (nArms - 1);
  return {
    distance,
    df,
    p_value: chiSquareSf(Math.max(0, distance), df),
    covariates: w.covariates,
    dropped: w.dropped,
    imputed: w.imputed,
    missing_values: 'mean-imputed',
  };
}

/**
 * Chi-square quantile: x with P(χ²_df ≤ x) = p, by bisection on a bracket to 1e-14 relative (the CDF is the accurate regularized incomplete gamma of
 * distributions.ts). Used for the rerandomization threshold a = χ²_{df}(p_a) (Morgan & Rubin 2012).
 *
 * @param p probability in (0, 1)
 * @param df degrees of freedom > 0
 * @throws RangeError when p ∉ (0, 1) or df ≤ 0
 */
export function chiSquareQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`df must be positive, got ${df}`);
  let lo = 0;
  let hi = Math.max(1, df);
  while (chiSquareCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 400; i++) {
    const mid = (lo + hi) / 2;
    if (chiSquareCdf(mid, df) < p) lo = mid;
    else hi = mid;
    if (hi - lo <= 1e-14 * hi) break;
  }
  return (lo + hi) / 2;
}
