/**
 * Ordinary least squares with heteroskedasticity-robust (HC0–HC3) and cluster-robust (CR1, CR2)
 * covariance matrices, for the small designs PilotLab analyses (k ≤ a few columns, N ≤ tens of
 * thousands of rows). Plain dense linear algebra; no I/O.
 *
 * Formulas (M = (X'X)⁻¹, e = y − Xb, h_ii = x_i' M x_i):
 *  - HC0: M X' diag(e²) X M; HC1 = HC0·n/(n − k); HC2: e_i²/(1 − h_ii); HC3: e_i²/(1 − h_ii)²
 *    (MacKinnon & White 1985; statsmodels `cov_type='HC0'..'HC3'`, R sandwich::vcovHC).
 *  - CR1: c·M (Σ_g X_g' e_g e_g' X_g) M with c = G/(G − 1)·(N − 1)/(N − k) (statsmodels
 *    `cov_type='cluster'` default, Stata, R sandwich::vcovCL(type = 'HC1')).
 *  - CR2 (Bell & McCaffrey 2002): M (Σ_g X_g' A_g e_g e_g' A_g X_g) M with
 *    A_g = (I − H_gg)^(−1/2), the symmetric inverse square root, H_gg = X_g M X_g'.
 *    Its small-sample df for a single coefficient is the Bell–McCaffrey (Satterthwaite) df under a
 *    homoskedastic working model: df = (tr B)²/tr(B²), B_gh = a_g'(I − H)_gh a_h with
 *    a_g = A_g X_g M c (Imbens & Kolesár 2016, "Robust standard errors in small samples", REStat
 *    98; Pustejovsky & Tipton 2018, JBES 36; = clubSandwich 'CR2' + Satterthwaite for OLS).
 */

/** A dense matrix as an array of rows. */
export type Matrix = number[][];

/** Inverse of a symmetric positive-definite matrix by Gauss–Jordan with partial pivoting. Throws on singular input. */
export function invertMatrix(a: Matrix): Matrix {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  const scale = Math.max(1e-300, ...a.map((r) => Math.max(...r.map(Math.abs))));
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
    if (Math.abs(m[piv][col]) <= 1e-12 * scale) throw new RangeError('the design matrix is singular (collinear columns)');
    [m[col], m[piv]] = [m[piv], m[col]];
    const p = m[col][col];
    for (let j = 0; j < 2 * n; j++) m[col][j] /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r][col];
      if (f === 0) continue;
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[col][j];
    }
  }
  return m.map((row) => row.slice(n));
}

function matVec(a: Matrix, v: readonly number[]): number[] {
  return a.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (Golub & Van Loan §8.5).
 * @returns eigenvalues and the eigenvectors as the columns of `vectors`
 */
export function symmetricEigen(a: Matrix): { values: number[]; vectors: Matrix } {
  const n = a.length;
  const m = a.map((r) => [...r]);
  const v: Matrix = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i][j] * m[i][j];
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p][q]) < 1e-300) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: m.map((r, i) => r[i]), vectors: v };
}

/** An OLS fit: coefficients, residuals, (X'X)⁻¹ and leverages. */
export interface OlsFit {
  n: number;
  k: number;
  coef: number[];
  residuals: number[];
  /** (X'X)⁻¹ */
  xtxInv: Matrix;
  /** leverages h_ii */
  leverage: number[];
  /** residual sum of squares / (n − k); null when n ≤ k */
  sigma2: number | null;
  x: Matrix;
}

/**
 * Fits y = Xb + e by least squares (normal equations; the columns are few and centred by callers).
 * @param x n × k design matrix (rows = observations)
 * @param y n outcomes
 * @throws RangeError when n < k or the columns are collinear
 */
export function olsFit(x: Matrix, y: readonly number[]): OlsFit {
  const n = x.length;
  const k = n > 0 ? x[0].length : 0;
  if (n !== y.length) throw new RangeError(`X has ${n} rows but y has ${y.length}`);
  if (n < k || k === 0) throw new RangeError(`OLS needs at least as many rows (${n}) as columns (${k})`);
  // Column equilibration: solve with Z = X·diag(1/s), s_j = ‖x_j‖, so columns of very different
  // scales (an intercept and a covariate in the thousands) do not inflate the condition number.
  const scale = Array.from({ length: k }, (_, a) => Math.sqrt(x.reduce((acc, r) => acc + r[a] * r[a], 0)) || 1);
  const z = x.map((r) => r.map((v, a) => v / scale[a]));
  const ztz: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const zty = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const r = z[i];
    for (let a = 0; a < k; a++) {
      zty[a] += r[a] * y[i];
      for (let b = a; b < k; b++) ztz[a][b] += r[a] * r[b];
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) ztz[a][b] = ztz[b][a];
  const ztzInv = invertMatrix(ztz);
  const g = matVec(ztzInv, zty);
  // Two steps of iterative refinement of the normal equations (accuracy near 1e-12).
  for (let step = 0; step < 2; step++) {
    const r0 = y.map((yi, i) => yi - dot(z[i], g));
    const corr = matVec(ztzInv, Array.from({ length: k }, (_, a) => z.reduce((acc, row, i) => acc + row[a] * r0[i], 0)));
    for (let a = 0; a < k; a++) g[a] += corr[a];
  }
  const coef = g.map((v, a) => v / scale[a]);
  const xtxInv = ztzInv.map((row, a) => row.map((v, b) => v / (scale[a] * scale[b])));
  const residuals = y.map((yi, i) => yi - dot(z[i], g));
  const leverage = z.map((r) => dot(r, matVec(ztzInv, r)));
  const rss = residuals.reduce((acc, e) => acc + e * e, 0);
  return { n, k, coef, residuals, xtxInv, leverage, sigma2: n > k ? rss / (n - k) : null, x };
}

/** Sandwich M (Σ_i w_i x_i x_i') M. */
function sandwich(fit: OlsFit, weights: readonly number[]): Matrix {
  const { k, x, xtxInv } = fit;
  const meat: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  x.forEach((r, i) => {
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) meat[a][b] += weights[i] * r[a] * r[b];
  });
  return multiply(multiply(xtxInv, meat), xtxInv);
}

function multiply(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, x, l) => s + x * b[l][j], 0)));
}

/** Heteroskedasticity-consistent covariance types. */
export type HcType = 'HC0' | 'HC1' | 'HC2' | 'HC3';

/**
 * Heteroskedasticity-consistent covariance of the OLS coefficients (MacKinnon & White 1985).
 * A leverage of (numerically) 1 — an observation fitted exactly by its own column — makes HC2/HC3
 * undefined: @returns null in that case.
 */
export function hcCovariance(fit: OlsFit, type: HcType): Matrix | null {
  const { n, k, residuals, leverage } = fit;
  const e2 = residuals.map((e) => e * e);
  // A leverage of 1 (an observation alone determining a coefficient) makes HC2/HC3 undefined; computed
  // leverages carry rounding of the order of cond(X'X)·ε, so anything within 1e-6 of 1 counts as 1.
  if ((type === 'HC2' || type === 'HC3') && leverage.some((h) => h >= 1 - 1e-6)) return null;
  switch (type) {
    case 'HC0':
      return sandwich(fit, e2);
    case 'HC1':
      return n > k ? sandwich(fit, e2).map((r) => r.map((v) => (v * n) / (n - k))) : null;
    case 'HC2':
      return sandwich(fit, e2.map((e, i) => e / (1 - leverage[i])));
    case 'HC3':
      return sandwich(fit, e2.map((e, i) => e / (1 - leverage[i]) ** 2));
  }
}

/** Classical OLS covariance σ²(X'X)⁻¹ (null when n ≤ k). */
export function classicCovariance(fit: OlsFit): Matrix | null {
  return fit.sigma2 === null ? null : fit.xtxInv.map((r) => r.map((v) => v * fit.sigma2!));
}

/** Rows grouped by cluster label, in first-seen order. */
function groupRows(clusters: readonly string[]): number[][] {
  const map = new Map<string, number[]>();
  clusters.forEach((g, i) => {
    const rows = map.get(g);
    if (rows) rows.push(i);
    else map.set(g, [i]);
  });
  return [...map.values()];
}

/**
 * CR1 cluster-robust covariance with statsmodels' default small-sample factor
 * c = G/(G − 1)·(N − 1)/(N − k). Null when G < 2.
 */
export function cr1Covariance(fit: OlsFit, clusters: readonly string[]): Matrix | null {
  const groups = groupRows(clusters);
  const G = groups.length;
  if (G < 2 || fit.n <= fit.k) return null;
  const { k, x, residuals, xtxInv } = fit;
  const meat: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const rows of groups) {
    const s = new Array<number>(k).fill(0);
    for (const i of rows) for (let a = 0; a < k; a++) s[a] += x[i][a] * residuals[i];
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) meat[a][b] += s[a] * s[b];
  }
  const c = (G / (G - 1)) * ((fit.n - 1) / (fit.n - k));
  return multiply(multiply(xtxInv, meat), xtxInv).map((r) => r.map((v) => v * c));
}

/** CR2 variance of one coefficient with its Bell–McCaffrey df. */
export interface Cr2Result {
  variance: number;
  /** Bell–McCaffrey (Satterthwaite) df under a homoskedastic working model; null when undefined */
  df: number | null;
  clusters: number;
}

/**
 * CR2 (Bell & McCaffrey 2002) variance of coefficient `j`, and its Bell–McCaffrey df (see the file
 * header). A cluster whose I − H_gg is singular (a cluster fitted exactly, e.g. a territory dummy)
 * gets the Moore–Penrose inverse square root, as clubSandwich does.
 *
 * Computed in the k-dimensional column space, never with n_g × n_g matrices: with M = LL' and
 * Z_g = X_g L, H_gg = Z_g Z_g' has rank ≤ k, its non-zero eigenvalues μ_i are those of
 * K_g = L' S_g L (S_g = X_g'X_g, eigenvectors v_i), and the other eigenvalues of I − H_gg are 1, so
 * A_g = I + Z_g V diag(φ(μ)) V' Z_g' with φ(μ) = ((1 − μ)^(−1/2) − 1)/μ = 1/(r(1 + r)), r = √(1 − μ)
 * (φ = −1/μ where 1 − μ ≤ 1e-10: the pseudo-inverse's 0). Hence a_g = A_g X_g M c = X_g w_g with
 * w_g = Mc + L V diag(φ) V' L' S_g Mc, and a_g'e_g = w_g'(X_g'e_g), u_g = X_g'a_g = S_g w_g,
 * a_g'a_g = w_g'S_g w_g: O(N k² + G k³ + G² k) instead of O(Σ_g n_g³). Same numbers as the direct
 * n_g × n_g route up to floating-point rounding (checked against it in linear-model.spec.ts).
 * @returns null when there are fewer than 2 clusters
 */
export function cr2Coefficient(fit: OlsFit, clusters: readonly string[], j: number): Cr2Result | null {
  const groups = groupRows(clusters);
  const G = groups.length;
  if (G < 2) return null;
  const { k, x, residuals, xtxInv } = fit;
  const mc = xtxInv.map((row) => row[j]); // M c for the unit contrast c = e_j
  const l = psdFactor(xtxInv); // L L' = M
  const us: number[][] = [];
  const aa: number[] = [];
  let variance = 0;
  for (const rows of groups) {
    // S_g = X_g'X_g and X_g'e_g
    const sg: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const xe = new Array<number>(k).fill(0);
    for (const i of rows) {
      const r = x[i];
      const e = residuals[i];
      for (let a = 0; a < k; a++) {
        xe[a] += r[a] * e;
        for (let b = a; b < k; b++) sg[a][b] += r[a] * r[b];
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) sg[a][b] = sg[b][a];
    const sl = multiply(sg, l);
    const kg: Matrix = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => {
      let s = 0;
      for (let c = 0; c < k; c++) s += l[c][a] * sl[c][b];
      return s;
    }));
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) kg[a][b] = kg[b][a] = (kg[a][b] + kg[b][a]) / 2;
    const { values, vectors } = symmetricEigen(kg);
    const phi = values.map((mu) => {
      const rest = 1 - mu;
      if (rest <= 1e-10) return -1 / mu;
      const r = Math.sqrt(rest);
      return 1 / (r * (1 + r));
    });
    // t = L' S_g Mc; s = V diag(φ) V' t; w_g = Mc + L s
    const smc = matVec(sg, mc);
    const t = Array.from({ length: k }, (_, a) => {
      let s = 0;
      for (let c = 0; c < k; c++) s += l[c][a] * smc[c];
      return s;
    });
    const vt = Array.from({ length: k }, (_, i) => {
      let s = 0;
      for (let c = 0; c < k; c++) s += vectors[c][i] * t[c];
      return phi[i] * s;
    });
    const s = matVec(vectors, vt);
    const w = mc.map((m, a) => m + dot(l[a], s));
    variance += dot(w, xe) ** 2;
    const u = matVec(sg, w);
    us.push(u);
    aa.push(dot(w, u));
  }
  // B_gh = δ_gh a_g'a_g − u_g' M u_h, u_g = X_g' a_g.
  const mu = us.map((u) => matVec(xtxInv, u));
  let trace = 0;
  let traceSq = 0;
  for (let g = 0; g < G; g++) {
    for (let h = 0; h < G; h++) {
      const b = (g === h ? aa[g] : 0) - dot(us[g], mu[h]);
      if (g === h) trace += b;
      traceSq += b * b;
    }
  }
  const df = traceSq > 0 ? (trace * trace) / traceSq : null;
  return { variance, df, clusters: G };
}

/**
 * A factor L with L L' = M of a symmetric positive (semi-)definite k × k matrix: Cholesky, or, when
 * rounding makes a pivot non-positive, V diag(√max(λ, 0)) from the eigen-decomposition.
 */
function psdFactor(m: Matrix): Matrix {
  const k = m.length;
  const l: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      let s = m[a][b];
      for (let c = 0; c < b; c++) s -= l[a][c] * l[b][c];
      if (a === b) {
        if (!(s > 0)) {
          const { values, vectors } = symmetricEigen(m);
          return vectors.map((row) => row.map((v, i) => v * Math.sqrt(Math.max(0, values[i]))));
        }
        l[a][a] = Math.sqrt(s);
      } else l[a][b] = s / l[b][b];
    }
  }
  return l;
}

/** A column of a design matrix that is (numerically) a linear combination of the columns kept before it. */
export interface AliasedColumn {
  /** index of the column in the design */
  column: number;
  /** the kept columns it is a combination of (none: the column is 0 for every row) */
  combination_of: number[];
}

/**
 * Rank-revealing check of a design matrix's columns, in order (as R's lm does with its pivoted QR
 * and tol = 1e-7): modified Gram–Schmidt with one re-orthogonalisation; column j is aliased when
 * the norm of what is left of it after projecting out the kept columns before it is at most
 * `tol`·‖x_j‖ (relative tolerance, so the columns' scales do not matter). Earlier columns are always
 * kept in preference to later ones, so put the columns that must stay first.
 * @param x n × k design matrix (rows = observations)
 * @param tol relative tolerance (default 1e-7)
 * @returns the indices of the kept columns and, for each aliased column, the kept columns it is a
 *   combination of (those with a coefficient above `tol` relative to its norm)
 */
export function aliasedColumns(x: Matrix, tol = 1e-7): { kept: number[]; aliased: AliasedColumn[] } {
  const n = x.length;
  const k = n > 0 ? x[0].length : 0;
  const q: number[][] = [];
  const kept: number[] = [];
  const aliased: AliasedColumn[] = [];
  for (let j = 0; j < k; j++) {
    const col = x.map((r) => r[j]);
    const norm = Math.sqrt(dot(col, col));
    const v = [...col];
    for (let pass = 0; pass < 2; pass++) {
      for (const qc of q) {
        const c = dot(qc, v);
        for (let i = 0; i < n; i++) v[i] -= c * qc[i];
      }
    }
    const rest = Math.sqrt(dot(v, v));
    if (norm === 0 || rest <= tol * norm) {
      aliased.push({ column: j, combination_of: norm === 0 ? [] : combinationOf(x, kept, col, tol * norm) });
      continue;
    }
    q.push(v.map((vi) => vi / rest));
    kept.push(j);
  }
  return { kept, aliased };
}

/** The kept columns with a coefficient (times the column's norm) above `cut` in the least-squares fit of `col` on them. */
function combinationOf(x: Matrix, kept: readonly number[], col: readonly number[], cut: number): number[] {
  if (kept.length === 0) return [];
  const fit = olsFit(
    x.map((r) => kept.map((j) => r[j])),
    col,
  );
  return kept.filter((j, a) => {
    const colNorm = Math.sqrt(x.reduce((s, r) => s + r[j] * r[j], 0));
    return Math.abs(fit.coef[a]) * colNorm > cut;
  });
}

/** The HC2 or HC3 variance of one coefficient, with the rows fitted exactly (leverage 1). */
export interface HcCoefficientVariance {
  /** null when a row with leverage 1 moves the coefficient (HC2/HC3 undefined) */
  variance: number | null;
  /** rows with leverage (numerically) 1, fitted exactly by a column of their own */
  exact_rows: number[];
  /** those of `exact_rows` whose outcome moves coefficient j: HC2/HC3 of it is undefined */
  influential_exact_rows: number[];
}

/**
 * HC2 or HC3 variance of coefficient j alone, Σ_i w_i·a_i² with a_i = (M x_i)_j (the weight of y_i
 * in b_j) and w_i = e_i²/(1 − h_ii) (HC2) or e_i²/(1 − h_ii)² (HC3) (MacKinnon & White 1985).
 * A row with leverage 1 has e_i = 0 and 1 − h_ii = 0: its weight is undefined. When its a_i is 0
 * (b_j does not depend on y_i, e.g. a territory fitted by an indicator column of its own), its term
 * is 0 whatever the weight, and dropping the row with its column gives the same b_j and the same
 * variance; it is left out and listed in `exact_rows`. When a_i ≠ 0 the variance is undefined:
 * null, and the row is listed in `influential_exact_rows`.
 * @param fit an OLS fit; @param type 'HC2' or 'HC3'; @param j the coefficient's column
 */
export function hcCoefficientVariance(fit: OlsFit, type: 'HC2' | 'HC3', j: number): HcCoefficientVariance {
  const { x, xtxInv, residuals, leverage } = fit;
  const weightOf = x.map((r) => dot(xtxInv[j], r));
  const scale = Math.max(...weightOf.map(Math.abs));
  const exact: number[] = [];
  const influential: number[] = [];
  let variance = 0;
  x.forEach((_, i) => {
    const oneMinusH = 1 - leverage[i];
    if (oneMinusH <= 1e-6) {
      exact.push(i);
      if (Math.abs(weightOf[i]) > 1e-7 * scale) influential.push(i);
      return;
    }
    const e2 = residuals[i] * residuals[i];
    variance += (type === 'HC2' ? e2 / oneMinusH : e2 / (oneMinusH * oneMinusH)) * weightOf[i] * weightOf[i];
  });
  return { variance: influential.length ? null : variance, exact_rows: exact, influential_exact_rows: influential };
}
