/**
 * Wild cluster restricted bootstrap (WCR, "WCR-C" with the null imposed) for one OLS coefficient:
 * the few-cluster test of Cameron, Gelbach & Miller (2008, REStat 90), computed with the algebra of
 * Roodman, MacKinnon, Nielsen & Webb (2019, "Fast and wild", Stata Journal 19), which works on
 * G-level sums instead of re-running OLS per draw.
 *
 * Model y = Xb + u, clusters g = 1..G, H0: b_j = r. Restricted fit: regress y − r·x_j on X without
 * column j; its residuals are ũ(r) = e0 − r·f with e0, f the residuals of y and x_j on X_{−j}.
 * Bootstrap samples y* = (restricted fit) + ũ_g·v_g with one weight v_g per cluster. For each draw the
 * t statistic is t*(v) = (b*_j − r)/se*_CR1 with the same CR1 factor c = G/(G−1)·(N−1)/(N−k) as the
 * observed t = (b_j − r)/se_CR1. With M = (X'X)⁻¹, m = M e_j, s_g(r) = X_g'ũ_g(r), S_g = X_g'X_g,
 * q_h = M S_h m:
 *   b*_j − r = Σ_g v_g a_g(r),  a_g(r) = m's_g(r);
 *   score of cluster h in the bootstrap CR1 meat = Σ_g C_hg(r) v_g,  C(r) = diag(a(r)) − [q_h's_g(r)];
 * both are linear in r (a = a0 − r·a1, C = C0 − r·C1), so per draw five numbers suffice for every r:
 *   n0 = a0'v, n1 = a1'v, A = ‖C0v‖², B = (C0v)'(C1v), D = ‖C1v‖²,
 *   t*(v; r) = (n0 − r·n1) / √(c·(A − 2rB + r²D)).
 * Cost O(N k² + G² k) to set up and O(G²) per draw; the CI by test inversion costs O(draws) per r.
 * The all-ones draw reproduces the observed t exactly (a check in the spec).
 *
 * Weights: Rademacher (±1) when G ≥ 12; Webb's six-point weights (±√(1/2), ±1, ±√(3/2), each 1/6;
 * Webb 2023, Canadian J. Economics 56) below 12 clusters, where Rademacher gives too few distinct
 * p-values. All weight vectors are enumerated when their number (2^G, or 6^G for Webb) is at most
 * `maxEnumeration` (default 100,000); v and −v give the same |t*|, so half of them are visited.
 * Otherwise `draws` vectors (default 9,999) from the seeded PRNG (../design/prng.ts).
 *
 * p-value (symmetric, two-sided): exact share #{|t*| ≥ |t| − tol}/N over the enumeration, or
 * (1 + #{|t*_b| ≥ |t| − tol})/(B + 1) for Monte Carlo (never 0, as the project's randomization
 * inference; tol = 1e-9·max(1, |t|)). CI at 1 − α: {r : p(r) ≥ α}, bounds by doubling from the
 * estimate in steps of se_CR1 then bisection (the same stored draws for every r, as
 * fwildclusterboot and boottest do), so p < α exactly when the CI excludes the null value.
 * Reference values: test/fixtures/wild-cluster-bootstrap.json (direct route: an OLS refit per weight
 * vector in numpy, full enumeration; script beside it).
 */
import { createPrng } from './design/prng';
import { clusterGroups } from './cluster-small-sample';
import { olsFit } from './linear-model';
import type { Matrix, OlsFit } from './linear-model';
import { isZeroSe } from './zero-se';

/** Weight distributions offered. */
export type WildWeights = 'rademacher' | 'webb';

/** Input of `wildClusterBootstrap`. */
export interface WildClusterBootstrapInput {
  /** N × k design matrix (rows = observations; include the intercept column) */
  x: Matrix;
  /** N outcomes */
  y: readonly number[];
  /** cluster label per row (the territory) */
  clusters: readonly string[];
  /** index j of the tested coefficient */
  coefficient: number;
  /** r of H0: b_j = r (default 0) */
  nullValue?: number;
  /** level of the CI (default 0.05) */
  alpha?: number;
  /** Monte Carlo draws when not enumerating (default 9,999) */
  draws?: number;
  /** PRNG seed for Monte Carlo (default 0) */
  seed?: number;
  /** 'auto' (default): Webb below 12 clusters, else Rademacher */
  weights?: 'auto' | WildWeights;
  /** enumerate all weight vectors when there are at most this many (default 100,000) */
  maxEnumeration?: number;
  /** compute the CI by test inversion (default true) */
  ci?: boolean;
  /** olsFit(x, y) when the caller has made it (fewClusterRows shares its fit); refitted otherwise */
  fit?: OlsFit;
}

/** Result of `wildClusterBootstrap`. */
export interface WildClusterBootstrapResult {
  method: 'wild_cluster_restricted_bootstrap';
  status: 'ok' | 'insufficient_data' | 'zero_variance';
  estimate: number | null;
  se_cr1: number | null;
  t: number | null;
  p_value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  /** 'unbounded': some bound was not reached (too few distinct draws to reject anything far away) */
  ci_status: 'ok' | 'unbounded' | null;
  conf_level: number;
  null_value: number;
  weights: WildWeights;
  enumeration: boolean;
  /** weight vectors evaluated (half the enumeration, by symmetry; B for Monte Carlo) */
  draws: number;
  seed: number | null;
  clusters: number;
  /** smallest p the procedure can return: 1/(number of distinct |t*| classes) or 1/(B + 1) */
  min_attainable_p: number | null;
  note: string | null;
}

const WEBB = [-Math.sqrt(1.5), -1, -Math.sqrt(0.5), Math.sqrt(0.5), 1, Math.sqrt(1.5)];

/** Per-draw sufficient numbers n0, n1, A, B, D (see the file header), plus the observed t pieces. */
export interface WcrKernel {
  estimate: number;
  /** CR1 standard error of b_j */
  se: number;
  /** CR1 small-sample factor c */
  c: number;
  n0: Float64Array;
  n1: Float64Array;
  qa: Float64Array;
  qb: Float64Array;
  qd: Float64Array;
  count: number;
}

/**
 * G-level pieces a0, a1, C0, C1 and the observed estimate and CR1 SE. The restricted residuals come
 * from the unrestricted fit by Frisch–Waugh–Lovell: with m = (X'X)⁻¹e_j, the residual of x_j on the
 * other columns is f = Xm/m_j (the j-th row of (X'X)⁻¹X' is f'/(f'f) and m_j = 1/(f'f)), and the
 * residual of y on the other columns is e0 = ê + b_j·f (Davidson & MacKinnon 2004, §2.4), so one
 * fit serves all three.
 */
function wcrSetup(x: Matrix, y: readonly number[], rows: number[][], j: number, given?: OlsFit) {
  const k = x[0].length;
  const fit = given ?? olsFit(x, y);
  const m = fit.xtxInv.map((r) => r[j]);
  const f = x.map((r) => {
    let xm = 0;
    for (let a = 0; a < k; a++) xm += r[a] * m[a];
    return xm / m[j];
  });
  const e0 = fit.residuals.map((e, i) => e + fit.coef[j] * f[i]);
  const G = rows.length;
  const a0 = new Float64Array(G);
  const a1 = new Float64Array(G);
  const s0: number[][] = [];
  const s1: number[][] = [];
  const q: number[][] = [];
  let meat = 0;
  rows.forEach((rs, g) => {
    const v0 = new Array<number>(k).fill(0);
    const v1 = new Array<number>(k).fill(0);
    const sm = new Array<number>(k).fill(0); // S_g m
    let score = 0;
    for (const i of rs) {
      const r = x[i];
      let xm = 0;
      for (let a = 0; a < k; a++) xm += r[a] * m[a];
      score += xm * fit.residuals[i];
      for (let a = 0; a < k; a++) {
        v0[a] += r[a] * e0[i];
        v1[a] += r[a] * f[i];
        sm[a] += r[a] * xm;
      }
    }
    meat += score * score;
    s0.push(v0);
    s1.push(v1);
    q.push(fit.xtxInv.map((row) => row.reduce((acc, v, b) => acc + v * sm[b], 0)));
    for (let a = 0; a < k; a++) {
      a0[g] += m[a] * v0[a];
      a1[g] += m[a] * v1[a];
    }
  });
  const c0 = new Float64Array(G * G);
  const c1 = new Float64Array(G * G);
  for (let h = 0; h < G; h++) {
    for (let g = 0; g < G; g++) {
      let p0 = 0;
      let p1 = 0;
      for (let a = 0; a < k; a++) {
        p0 += q[h][a] * s0[g][a];
        p1 += q[h][a] * s1[g][a];
      }
      c0[h * G + g] = (h === g ? a0[g] : 0) - p0;
      c1[h * G + g] = (h === g ? a1[g] : 0) - p1;
    }
  }
  const N = x.length;
  const c = (G / (G - 1)) * ((N - 1) / (N - k));
  return { estimate: fit.coef[j], se: Math.sqrt(c * meat), c, a0, a1, c0, c1 };
}

/** Weight vectors: enumeration (half, by the v ↔ −v symmetry) or Monte Carlo. */
function* weightVectors(G: number, weights: WildWeights, enumerate: boolean, draws: number, seed: number): Generator<Float64Array> {
  const v = new Float64Array(G);
  if (enumerate) {
    const base = weights === 'webb' ? 6 : 2;
    const half = weights === 'webb' ? 3 : 1; // first weight restricted to the positive values
    const total = half * base ** (G - 1);
    for (let idx = 0; idx < total; idx++) {
      let rest = idx;
      for (let g = G - 1; g >= 1; g--) {
        const d = rest % base;
        rest = (rest - d) / base;
        v[g] = weights === 'webb' ? WEBB[d] : d === 0 ? 1 : -1;
      }
      v[0] = weights === 'webb' ? WEBB[3 + rest] : 1;
      yield v;
    }
    return;
  }
  const rng = createPrng(seed);
  for (let b = 0; b < draws; b++) {
    if (weights === 'webb') {
      for (let g = 0; g < G; g++) v[g] = WEBB[rng.nextInt(6)];
    } else {
      let bits = 0;
      for (let g = 0; g < G; g++) {
        if (g % 32 === 0) bits = rng.nextUint32();
        v[g] = bits & 1 ? 1 : -1;
        bits >>>= 1;
      }
    }
    yield v;
  }
}

/**
 * Precomputes the WCR kernel (the five per-draw numbers) for coefficient j.
 * @param x N × k design, y N outcomes, clusters N labels, j coefficient index
 * @param plan weights, whether to enumerate, Monte Carlo draws and seed
 * @param fit olsFit(x, y) when the caller has it (refitted otherwise)
 * @throws RangeError from olsFit on collinear columns or too few rows
 */
export function wcrKernel(
  x: Matrix,
  y: readonly number[],
  clusters: readonly string[],
  j: number,
  plan: { weights: WildWeights; enumerate: boolean; draws: number; seed: number },
  fit?: OlsFit,
): WcrKernel {
  const { rows } = clusterGroups(clusters);
  const G = rows.length;
  const s = wcrSetup(x, y, rows, j, fit);
  const count = plan.enumerate ? (plan.weights === 'webb' ? 3 : 1) * (plan.weights === 'webb' ? 6 : 2) ** (G - 1) : plan.draws;
  const n0 = new Float64Array(count);
  const n1 = new Float64Array(count);
  const qa = new Float64Array(count);
  const qb = new Float64Array(count);
  const qd = new Float64Array(count);
  let b = 0;
  for (const v of weightVectors(G, plan.weights, plan.enumerate, plan.draws, plan.seed)) {
    let sn0 = 0;
    let sn1 = 0;
    for (let g = 0; g < G; g++) {
      sn0 += s.a0[g] * v[g];
      sn1 += s.a1[g] * v[g];
    }
    let A = 0;
    let B = 0;
    let D = 0;
    for (let h = 0; h < G; h++) {
      let u0 = 0;
      let u1 = 0;
      const off = h * G;
      for (let g = 0; g < G; g++) {
        u0 += s.c0[off + g] * v[g];
        u1 += s.c1[off + g] * v[g];
      }
      A += u0 * u0;
      B += u0 * u1;
      D += u1 * u1;
    }
    n0[b] = sn0;
    n1[b] = sn1;
    qa[b] = A;
    qb[b] = B;
    qd[b] = D;
    b++;
  }
  return { estimate: s.estimate, se: s.se, c: s.c, n0, n1, qa, qb, qd, count };
}

/** Number of draws with |t*(r)| ≥ |t(r)| − tol. */
export function wcrExceedances(k: WcrKernel, r: number): number {
  const tObs = (k.estimate - r) / k.se;
  const bound = Math.abs(tObs) - 1e-9 * Math.max(1, Math.abs(tObs));
  let count = 0;
  for (let b = 0; b < k.count; b++) {
    const num = k.n0[b] - r * k.n1[b];
    const den2 = k.c * (k.qa[b] - 2 * r * k.qb[b] + r * r * k.qd[b]);
    const t = den2 > 0 ? Math.abs(num) / Math.sqrt(den2) : num !== 0 ? Infinity : 0;
    if (t >= bound) count++;
  }
  return count;
}

/** Chooses the weights and whether to enumerate (see the file header). */
export function wcrPlan(G: number, weights: 'auto' | WildWeights, maxEnumeration: number): { weights: WildWeights; enumerate: boolean } {
  const w: WildWeights = weights === 'auto' ? (G < 12 ? 'webb' : 'rademacher') : weights;
  const vectors = (w === 'webb' ? 6 : 2) ** G;
  return { weights: w, enumerate: vectors <= maxEnumeration };
}

/** CI {r : p(r) ≥ α} by doubling from the estimate in se steps, then bisection of each bound. */
function invert(k: WcrKernel, pOf: (r: number) => number, alpha: number, nullValue: number, pNull: number) {
  const scale = Math.max(k.se, 1e-12 * Math.max(1, Math.abs(k.estimate)));
  const bound = (dir: 1 | -1): number | null => {
    let inside = k.estimate;
    let step = scale;
    let outside: number | null = null;
    for (let i = 0; i < 60; i++) {
      const r = k.estimate + dir * step;
      if (pOf(r) < alpha) {
        outside = r;
        break;
      }
      inside = r;
      step *= 2;
    }
    if (outside === null) return null;
    let out: number = outside;
    for (let i = 0; i < 200 && Math.abs(out - inside) > 1e-11 * scale; i++) {
      const mid: number = (inside + out) / 2;
      if (pOf(mid) >= alpha) inside = mid;
      else out = mid;
    }
    return inside;
  };
  let low = bound(-1);
  let high = bound(1);
  let note: string | null = null;
  if (pNull >= alpha && low !== null && high !== null && (nullValue < low || nullValue > high)) {
    low = Math.min(low, nullValue);
    high = Math.max(high, nullValue);
    note = 'the bootstrap p-value is not monotone in the tested value; the interval was widened to contain the null value it does not reject';
  } else if (pNull < alpha && low !== null && high !== null && nullValue >= low && nullValue <= high) {
    note = 'the bootstrap p-value is not monotone in the tested value: the null value is rejected although it lies between the bounds';
  }
  return { low, high, note };
}

/**
 * Wild cluster restricted bootstrap test and CI for coefficient j (see the file header).
 * @param input design, outcomes, clusters, coefficient, null value, level and draw budget
 * @returns status 'insufficient_data' (null inference) when there are fewer than 2 clusters or no
 *   residual degrees of freedom; 'zero_variance' when the CR1 standard error is 0
 * @throws RangeError on mismatched lengths, a non-finite value, an out-of-range coefficient or an
 *   invalid budget; olsFit's RangeError on collinear columns
 * Sources: Cameron, Gelbach & Miller (2008); Roodman, MacKinnon, Nielsen & Webb (2019); Webb (2023);
 *   MacKinnon, Nielsen & Webb (2023) §5; R fwildclusterboot / Stata boottest (same conventions).
 */
export function wildClusterBootstrap(input: WildClusterBootstrapInput): WildClusterBootstrapResult {
  const { x, y, clusters, coefficient: j } = input;
  const N = y.length;
  if (x.length !== N || clusters.length !== N) throw new RangeError('x, y and clusters must have the same number of rows');
  if (y.some((v) => !Number.isFinite(v)) || x.some((r) => r.some((v) => !Number.isFinite(v)))) throw new RangeError('x and y must be finite');
  const k = N > 0 ? x[0].length : 0;
  if (!(Number.isInteger(j) && j >= 0 && j < k)) throw new RangeError(`coefficient index ${j} is outside 0..${k - 1}`);
  const alpha = input.alpha ?? 0.05;
  const draws = input.draws ?? 9_999;
  const maxEnumeration = input.maxEnumeration ?? 100_000;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(Number.isInteger(draws) && draws >= 1)) throw new RangeError(`draws must be a positive integer, got ${draws}`);
  if (!(Number.isInteger(maxEnumeration) && maxEnumeration >= 0)) throw new RangeError(`maxEnumeration must be a non-negative integer, got ${maxEnumeration}`);
  const nullValue = input.nullValue ?? 0;
  const G = new Set(clusters).size;
  const plan = wcrPlan(G, input.weights ?? 'auto', maxEnumeration);
  const seed = plan.enumerate ? null : (input.seed ?? 0);
  const base: WildClusterBootstrapResult = {
    method: 'wild_cluster_restricted_bootstrap',
    status: 'insufficient_data',
    estimate: null,
    se_cr1: null,
    t: null,
    p_value: null,
    ci_low: null,
    ci_high: null,
    ci_status: null,
    conf_level: 1 - alpha,
    null_value: nullValue,
    weights: plan.weights,
    enumeration: plan.enumerate,
    draws: 0,
    seed,
    clusters: G,
    min_attainable_p: null,
    note: null,
  };
  if (G < 2 || N <= k) return { ...base, note: G < 2 ? 'fewer than 2 clusters' : 'no residual degrees of freedom' };
  const kernel = wcrKernel(x, y, clusters, j, { ...plan, draws, seed: seed ?? 0 }, input.fit);
  const est = kernel.estimate;
  if (isZeroSe(kernel.se, est)) {
    return { ...base, status: 'zero_variance', estimate: est, se_cr1: 0, draws: kernel.count, note: 'the cluster-robust standard error is 0' };
  }
  const pOf = (r: number): number => {
    const e = wcrExceedances(kernel, r);
    return plan.enumerate ? e / kernel.count : (1 + e) / (kernel.count + 1);
  };
  const p = pOf(nullValue);
  const minP = plan.enumerate ? 1 / kernel.count : 1 / (kernel.count + 1);
  const result: WildClusterBootstrapResult = {
    ...base,
    status: 'ok',
    estimate: est,
    se_cr1: kernel.se,
    t: (est - nullValue) / kernel.se,
    p_value: p,
    draws: kernel.count,
    min_attainable_p: minP,
  };
  if (input.ci === false) return result;
  const ci = invert(kernel, pOf, alpha, nullValue, p);
  const unbounded = ci.low === null || ci.high === null;
  return {
    ...result,
    ci_low: ci.low,
    ci_high: ci.high,
    ci_status: unbounded ? 'unbounded' : 'ok',
    note: unbounded ? `no tested value far from the estimate is rejected at ${alpha} (smallest attainable p ${minP.toPrecision(3)}); the interval is unbounded` : ci.note,
  };
}
