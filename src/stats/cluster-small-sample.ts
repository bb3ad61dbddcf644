/**
 * Small-sample cluster-robust inference for one OLS coefficient, beside the CR1/CR2 of
 * linear-model.ts: the CR3 (cluster jackknife) variance with its leave-one-cluster-out estimates, and
 * the CR2 variance with both Satterthwaite degrees of freedom of Imbens & Kolesár (2016): the
 * Bell–McCaffrey df (working model Ω = I) and the Imbens–Kolesár df (working model: Moulton's random
 * cluster effects, Ω = σ²_ε I + ρ·(1 within a cluster), σ²_ε and ρ estimated from the OLS residuals).
 *
 * Notation: M = (X'X)⁻¹, e = y − Xb, for cluster g: X_g (n_g × k), S_g = X_g'X_g, f_g = X_g'1,
 * A_g = (I − H_gg)^(−1/2) (symmetric, Moore–Penrose where singular), a_g = A_g X_g M ℓ for the unit
 * contrast ℓ = e_j. The CR2 variance is Σ_g (a_g'e_g)². With u_g = X_g'a_g:
 *  - G'G (the Bell–McCaffrey matrix): B_gh = δ_gh a_g'a_g − u_g'M u_h;
 *  - Moulton part: W_sg = δ_sg (1'a_g) − f_s'M u_g, so G'ΩG = σ²_ε·B + ρ·W'W;
 *  - df = tr(G'ΩG)² / ‖G'ΩG‖²_F (Satterthwaite: (Σλ)²/Σλ² over its eigenvalues λ).
 * Moulton estimates as R dfadjust::dfadjustSE (Kolesár), default rho0 = FALSE:
 *   ρ = (Σ_g (Σ_{i∈g} e_i)² − Σ e_i²) / (Σ_g n_g² − N), σ²_ε = max(Σ e_i²/N − ρ, 0).
 * Everything is computed in the k-dimensional column space (a_g = X_g w_g), as in cr2Coefficient.
 *
 * CR3 (MacKinnon, Nielsen & Webb 2023, "Cluster-robust inference: a guide to empirical practice",
 * J. Econometrics 232, eq. CV3): V = (G − 1)/G · Σ_g (b^(g) − b)(b^(g) − b)', with b^(g) the OLS fit
 * without cluster g, b^(g) = b − (X'X − S_g)⁻¹ X_g'e_g; inference with t(G − 1).
 *
 * Sources: Bell & McCaffrey (2002), Survey Methodology 28; Imbens & Kolesár (2016), REStat 98(4);
 * Moulton (1986), J. Econometrics 32; MacKinnon, Nielsen & Webb (2023). Reference values:
 * test/fixtures/cluster-small-sample.json (direct n × n route and explicit refits in numpy,
 * CR1 from statsmodels; script beside it).
 */
import { OlsFit, symmetricEigen } from './linear-model';
import { solveLinear } from './linear-solve';
import type { Matrix } from './linear-model';

/** Rows grouped by cluster label, in first-seen order, with the labels. */
export function clusterGroups(clusters: readonly string[]): { labels: string[]; rows: number[][] } {
  const map = new Map<string, number[]>();
  clusters.forEach((g, i) => {
    const rows = map.get(g);
    if (rows) rows.push(i);
    else map.set(g, [i]);
  });
  return { labels: [...map.keys()], rows: [...map.values()] };
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function matVec(a: Matrix, v: readonly number[]): number[] {
  return a.map((row) => dot(row, v));
}

/** Per-cluster sufficient statistics: S_g, X_g'e_g, X_g'1. */
interface ClusterMoments {
  s: Matrix;
  xe: number[];
  f: number[];
  esum: number;
  e2: number;
  n: number;
}

function clusterMoments(fit: OlsFit, rows: readonly number[]): ClusterMoments {
  const { k, x, residuals } = fit;
  const s: Matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const xe = new Array<number>(k).fill(0);
  const f = new Array<number>(k).fill(0);
  let esum = 0;
  let e2 = 0;
  for (const i of rows) {
    const r = x[i];
    const e = residuals[i];
    esum += e;
    e2 += e * e;
    for (let a = 0; a < k; a++) {
      xe[a] += r[a] * e;
      f[a] += r[a];
      for (let b = a; b < k; b++) s[a][b] += r[a] * r[b];
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) s[a][b] = s[b][a];
  return { s, xe, f, esum, e2, n: rows.length };
}

/** Symmetric factor L with LL' = M (eigen route; M is positive definite for a full-rank X). */
function factor(m: Matrix): Matrix {
  const { values, vectors } = symmetricEigen(m);
  return vectors.map((row) => row.map((v, i) => v * Math.sqrt(Math.max(0, values[i]))));
}

/**
 * w_g with a_g = A_g X_g M e_j = X_g w_g (see cr2Coefficient in linear-model.ts for the algebra):
 * w_g = Mc + L V diag(φ) V' L' S_g Mc, φ(μ) = ((1 − μ)^(−1/2) − 1)/μ over the eigenvalues μ of L'S_gL.
 */
function cr2Weight(s: Matrix, l: Matrix, mc: readonly number[]): number[] {
  const k = mc.length;
  const kg: Matrix = Array.from({ length: k }, (_, a) =>
    Array.from({ length: k }, (_, b) => {
      let acc = 0;
      for (let c = 0; c < k; c++) for (let d = 0; d < k; d++) acc += l[c][a] * s[c][d] * l[d][b];
      return acc;
    }),
  );
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) kg[a][b] = kg[b][a] = (kg[a][b] + kg[b][a]) / 2;
  const { values, vectors } = symmetricEigen(kg);
  const phi = values.map((mu) => {
    const rest = 1 - mu;
    if (rest <= 1e-10) return -1 / mu;
    if (Math.abs(mu) < 1e-300) return 0.5;
    const r = Math.sqrt(rest);
    return 1 / (r * (1 + r));
  });
  const smc = matVec(s, mc);
  const t = Array.from({ length: k }, (_, a) => {
    let acc = 0;
    for (let c = 0; c < k; c++) acc += l[c][a] * smc[c];
    return acc;
  });
  const vt = Array.from({ length: k }, (_, i) => {
    let acc = 0;
    for (let c = 0; c < k; c++) acc += vectors[c][i] * t[c];
    return phi[i] * acc;
  });
  const sv = matVec(vectors, vt);
  return mc.map((m, a) => m + dot(l[a], sv));
}

/** CR2 variance of one coefficient with the Bell–McCaffrey and Imbens–Kolesár df. */
export interface Cr2DfResult {
  /** CR2 (Bell–McCaffrey bias-reduced) variance of coefficient j */
  variance: number;
  /** Satterthwaite df with working model Ω = I (Bell & McCaffrey 2002); null when undefined */
  df_bell_mccaffrey: number | null;
  /** Satterthwaite df with the Moulton working model (Imbens & Kolesár 2016); null when undefined */
  df_imbens_kolesar: number | null;
  /** Moulton within-cluster error covariance ρ (may be negative) */
  rho: number;
  /** Moulton idiosyncratic variance σ²_ε = max(ssr/N − ρ, 0) */
  sigma2: number;
  clusters: number;
}

/**
 * CR2 variance of coefficient `j` with the Bell–McCaffrey and the Imbens–Kolesár degrees of freedom
 * (see the file header for the formulas; R dfadjust::dfadjustSE(IK = TRUE / FALSE) computes the same).
 * @param fit an OLS fit (olsFit)
 * @param clusters cluster label per row of the fit (same length as the fit's rows)
 * @param j index of the coefficient (0-based column of X)
 * @returns null when there are fewer than 2 clusters
 * @throws RangeError on a length mismatch or an out-of-range j
 */
export function cr2WithImbensKolesarDf(fit: OlsFit, clusters: readonly string[], j: number): Cr2DfResult | null {
  if (clusters.length !== fit.n) throw new RangeError(`clusters has ${clusters.length} entries but the fit has ${fit.n} rows`);
  if (!(Number.isInteger(j) && j >= 0 && j < fit.k)) throw new RangeError(`coefficient index ${j} is outside 0..${fit.k - 1}`);
  const { rows } = clusterGroups(clusters);
  const G = rows.length;
  if (G < 2) return null;
  const m = fit.xtxInv;
  const mc = m.map((r) => r[j]);
  const l = factor(m);
  const moments = rows.map((r) => clusterMoments(fit, r));
  let variance = 0;
  const us: number[][] = [];
  const aa: number[] = [];
  const dg: number[] = [];
  for (const mo of moments) {
    const w = cr2Weight(mo.s, l, mc);
    variance += dot(w, mo.xe) ** 2;
    const u = matVec(mo.s, w);
    us.push(u);
    aa.push(dot(w, u));
    dg.push(dot(mo.f, w));
  }
  const mu = us.map((u) => matVec(m, u));
  const b: Matrix = Array.from({ length: G }, (_, g) => Array.from({ length: G }, (_, h) => (g === h ? aa[g] : 0) - dot(us[g], mu[h])));
  // W_sg = δ_sg D_g − f_s' M u_g
  const wm: Matrix = moments.map((mo, s) => mu.map((mug, g) => (s === g ? dg[g] : 0) - dot(mo.f, mug)));
  const ssr = moments.reduce((acc, mo) => acc + mo.e2, 0);
  const den = moments.reduce((acc, mo) => acc + mo.n * mo.n, 0) - fit.n;
  const rho = den > 0 ? (moments.reduce((acc, mo) => acc + mo.esum * mo.esum, 0) - ssr) / den : 0;
  const sigma2 = Math.max(ssr / fit.n - rho, 0);
  const satterthwaite = (omega: (g: number, h: number) => number): number | null => {
    let tr = 0;
    let fro = 0;
    for (let g = 0; g < G; g++) {
      for (let h = 0; h < G; h++) {
        const v = omega(g, h);
        if (g === h) tr += v;
        fro += v * v;
      }
    }
    return fro > 0 && Number.isFinite(tr) ? (tr * tr) / fro : null;
  };
  const wtw = (g: number, h: number): number => {
    let acc = 0;
    for (let s = 0; s < G; s++) acc += wm[s][g] * wm[s][h];
    return acc;
  };
  const wtwM: Matrix = Array.from({ length: G }, (_, g) => Array.from({ length: G }, (_, h) => (h < g ? 0 : wtw(g, h))));
  for (let g = 0; g < G; g++) for (let h = 0; h < g; h++) wtwM[g][h] = wtwM[h][g];
  return {
    variance,
    df_bell_mccaffrey: satterthwaite((g, h) => b[g][h]),
    df_imbens_kolesar: satterthwaite((g, h) => sigma2 * b[g][h] + rho * wtwM[g][h]),
    rho,
    sigma2,
    clusters: G,
  };
}

/** CR3 (cluster jackknife) result for one coefficient. */
export interface Cr3Result {
  status: 'ok' | 'undefined';
  /** the full-sample OLS estimate b_j */
  estimate: number;
  /** (G − 1)/G · Σ_g (b_j^(g) − b_j)²; null when some leave-one-cluster-out fit is singular */
  variance: number | null;
  /** G − 1 */
  df: number;
  clusters: number;
  /** b_j without each cluster, in first-seen cluster order; estimate null where that fit is singular */
  leave_one_out: { cluster: string; estimate: number | null }[];
  /** why the variance is undefined (status 'undefined'), else null */
  reason: string | null;
}

/**
 * CR3 (jackknife) cluster-robust variance of coefficient `j` and the leave-one-cluster-out estimates
 * b_j^(g) = [b − (X'X − S_g)⁻¹X_g'e_g]_j (MacKinnon, Nielsen & Webb 2023, CV3; equals the explicit
 * refit without cluster g). A cluster whose removal makes X'X − S_g singular (it alone identifies a
 * coefficient, e.g. its own fixed effect) leaves the jackknife undefined: status 'undefined'.
 * @param fit an OLS fit (olsFit)
 * @param clusters cluster label per row
 * @param j coefficient index
 * @returns status 'undefined' with null variance when G < 2 or a leave-one-out fit is singular
 * @throws RangeError on a length mismatch or an out-of-range j
 */
export function cr3Jackknife(fit: OlsFit, clusters: readonly string[], j: number): Cr3Result {
  if (clusters.length !== fit.n) throw new RangeError(`clusters has ${clusters.length} entries but the fit has ${fit.n} rows`);
  if (!(Number.isInteger(j) && j >= 0 && j < fit.k)) throw new RangeError(`coefficient index ${j} is outside 0..${fit.k - 1}`);
  const { labels, rows } = clusterGroups(clusters);
  const G = rows.length;
  const estimate = fit.coef[j];
  const moments = rows.map((r) => clusterMoments(fit, r));
  const xtx: Matrix = Array.from({ length: fit.k }, (_, a) => Array.from({ length: fit.k }, (_, b) => moments.reduce((acc, mo) => acc + mo.s[a][b], 0)));
  const loo: Cr3Result['leave_one_out'] = [];
  let singular: string | null = null;
  let sum = 0;
  moments.forEach((mo, g) => {
    let est: number | null = null;
    try {
      const reduced = xtx.map((row, a) => row.map((v, b) => v - mo.s[a][b]));
      const delta = solveLinear(reduced, mo.xe);
      est = estimate - delta[j];
      sum += delta[j] * delta[j];
    } catch {
      singular ??= labels[g];
    }
    loo.push({ cluster: labels[g], estimate: est });
  });
  if (G < 2 || singular !== null) {
    return {
      status: 'undefined',
      estimate,
      variance: null,
      df: Math.max(G - 1, 0),
      clusters: G,
      leave_one_out: loo,
      reason: G < 2 ? 'fewer than 2 clusters' : `leaving out cluster ${singular} makes the model unidentified`,
    };
  }
  return { status: 'ok', estimate, variance: ((G - 1) / G) * sum, df: G - 1, clusters: G, leave_one_out: loo, reason: null };
}
