/**
 * Mann–Whitney U (Wilcoxon rank-sum) test of treatment vs control territory values.
 *
 * Conventions (shared/reference/mannwhitney.json): u1 = R1 − n1(n1 + 1)/2 with R1 the midrank sum of
 * the treatment sample; u2 = n1·n2 − u1; cles = u1/(n1·n2); 'greater' = treatment stochastically larger.
 *  - asymptotic: z = (u1 − n1n2/2)/σ, σ² = n1n2/12·((N + 1) − Σ(t³ − t)/(N(N − 1))); with continuity
 *    correction |u − μ| is reduced by 0.5 (two-sided uses max(u1, u2) as scipy); σ = 0 → null;
 *  - exact (scipy method='exact'): the untied null distribution of U, two-sided min(1, 2·P(U ≥ max(u1, u2)))
 *    with U truncated to an integer (scipy), informational only;
 *  - exact conditional: all C(N, n1) splits of the observed midranks equally likely,
 *    two-sided P(|U − n1n2/2| ≥ |u1 − n1n2/2|) — the p PilotLab uses (`p_value`); it is enumerated by
 *    a rank-sum DP (cost ~n1·N·Σ doubled ranks, not C(N, n1)) within MW_EXACT_MAX_WORK;
 *  - all values tied (σ = 0): asymptotic p null; scipy's 'auto' then returns 1 (its z is −∞).
 * Reference: scipy.stats.mannwhitneyu; coin::wilcox_test(distribution = 'exact').
 */
import { normalCdf, normalSf } from './distributions';
import { midranks } from './ranks';

const P_FLOOR = Number.MIN_VALUE;

/** Work budget of the exact enumeration (DP steps), ~1 s at most. */
export const MW_EXACT_MAX_WORK = 2e9;

/** Result of `mannWhitneyU`. */
export interface MannWhitneyResult {
  method: 'mann_whitney_u';
  status: 'ok' | 'insufficient_data';
  n1: number;
  n2: number;
  rank_sum_1: number;
  u1: number;
  u2: number;
  has_ties: boolean;
  cles: number | null;
  mu: number;
  sigma: number;
  z: number | null;
  p_asymptotic_cc: number | null;
  p_asymptotic_cc_greater: number | null;
  p_asymptotic_cc_less: number | null;
  p_asymptotic: number | null;
  p_asymptotic_greater: number | null;
  p_asymptotic_less: number | null;
  p_exact_scipy: number | null;
  p_exact_scipy_greater: number | null;
  p_exact_scipy_less: number | null;
  scipy_auto_method: 'exact' | 'asymptotic';
  p_scipy_auto: number | null;
  p_exact_conditional: number | null;
  p_exact_conditional_greater: number | null;
  p_exact_conditional_less: number | null;
  /** exact conditional when computed, else asymptotic with continuity correction */
  p_value: number | null;
  p_method: 'exact_conditional' | 'asymptotic_cc' | null;
}

/** Distribution of the sum of `k` items chosen from integer weights (counts as doubles). */
function subsetSumDistribution(weights: number[], k: number): Float64Array[] {
  const max = weights.reduce((s, v) => s + v, 0);
  // dp[j][s]: number of j-subsets with sum s
  const dp = Array.from({ length: k + 1 }, () => new Float64Array(max + 1));
  dp[0][0] = 1;
  weights.forEach((w, i) => {
    for (let j = Math.min(k, i + 1); j >= 1; j--) {
      const prev = dp[j - 1];
      const cur = dp[j];
      for (let s = max - w; s >= 0; s--) if (prev[s] !== 0) cur[s + w] += prev[s];
    }
  });
  return dp;
}

/** Untied null distribution of U (Mann & Whitney 1947 recursion) as probabilities 0..n1n2. */
function untiedUDistribution(n1: number, n2: number): Float64Array {
  const ranks = Array.from({ length: n1 + n2 }, (_, i) => i + 1);
  const dp = subsetSumDistribution(ranks, n1)[n1];
  const offset = (n1 * (n1 + 1)) / 2;
  const out = new Float64Array(n1 * n2 + 1);
  let total = 0;
  for (let u = 0; u <= n1 * n2; u++) total += out[u] = dp[u + offset];
  for (let u = 0; u <= n1 * n2; u++) out[u] /= total;
  return out;
}

/**
 * Mann–Whitney U test (see the file header).
 * @param treatment treatment territory values; @param control control territory values (finite)
 * @returns status 'insufficient_data' when an arm is empty
 */
export function mannWhitneyU(treatment: readonly number[], control: readonly number[]): MannWhitneyResult {
  for (const v of [...treatment, ...control]) if (!Number.isFinite(v)) throw new RangeError(`values must be finite, got ${v}`);
  const n1 = treatment.length;
  const n2 = control.length;
  const N = n1 + n2;
  const { ranks, tieSizes } = midranks([...treatment, ...control]);
  const r1 = ranks.slice(0, n1).reduce((s, v) => s + v, 0);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const mu = (n1 * n2) / 2;
  const hasTies = tieSizes.some((t) => t > 1);
  const tieTerm = N > 1 ? tieSizes.reduce((s, t) => s + (t * t * t - t), 0) / (N * (N - 1)) : 0;
  const sigma2 = ((n1 * n2) / 12) * (N + 1 - tieTerm);
  const sigma = sigma2 > 1e-12 ? Math.sqrt(sigma2) : 0;
  const autoMethod: 'exact' | 'asymptotic' = (n1 <= 8 || n2 <= 8) && !hasTies ? 'exact' : 'asymptotic';
  const res: MannWhitneyResult = {
    method: 'mann_whitney_u',
    status: n1 > 0 && n2 > 0 ? 'ok' : 'insufficient_data',
    n1,
    n2,
    rank_sum_1: r1,
    u1,
    u2,
    has_ties: hasTies,
    cles: n1 > 0 && n2 > 0 ? u1 / (n1 * n2) : null,
    mu,
    sigma,
    z: null,
    p_asymptotic_cc: null,
    p_asymptotic_cc_greater: null,
    p_asymptotic_cc_less: null,
    p_asymptotic: null,
    p_asymptotic_greater: null,
    p_asymptotic_less: null,
    p_exact_scipy: null,
    p_exact_scipy_greater: null,
    p_exact_scipy_less: null,
    scipy_auto_method: autoMethod,
    p_scipy_auto: null,
    p_exact_conditional: null,
    p_exact_conditional_greater: null,
    p_exact_conditional_less: null,
    p_value: null,
    p_method: null,
  };
  if (res.status !== 'ok') return res;
  const clip = (p: number) => Math.max(P_FLOOR, Math.min(1, p));
  if (sigma > 0) {
    res.z = (u1 - mu) / sigma;
    res.p_asymptotic = clip(2 * normalSf(Math.abs(u1 - mu) / sigma));
    res.p_asymptotic_greater = clip(normalSf((u1 - mu) / sigma));
    res.p_asymptotic_less = clip(normalCdf((u1 - mu) / sigma));
    res.p_asymptotic_cc = clip(2 * normalSf((Math.max(u1, u2) - mu - 0.5) / sigma));
    res.p_asymptotic_cc_greater = clip(normalSf((u1 - mu - 0.5) / sigma));
    res.p_asymptotic_cc_less = clip(normalCdf((u1 - mu + 0.5) / sigma));
  }
  // The rank-sum DP costs about n1·N·(N + 1) steps; beyond MW_EXACT_MAX_WORK the asymptotic p is used.
  if (n1 * N * N * (N + 1) <= MW_EXACT_MAX_WORK) {
    const untied = untiedUDistribution(n1, n2);
    const sfU = (u: number) => {
      let s = 0;
      for (let k = Math.max(0, Math.trunc(u)); k <= n1 * n2; k++) s += untied[k];
      return s;
    };
    res.p_exact_scipy = Math.min(1, 2 * sfU(Math.max(u1, u2)));
    res.p_exact_scipy_greater = Math.min(1, sfU(u1));
    res.p_exact_scipy_less = Math.min(1, sfU(u2));
    // Exact conditional on the midranks: doubled ranks are integers.
    const r2 = ranks.map((r) => Math.round(2 * r));
    const dist = subsetSumDistribution(r2, n1)[n1];
    const obs2 = Math.round(2 * r1);
    const center2 = n1 * (N + 1); // doubled E[R1]
    const dev = Math.abs(obs2 - center2);
    let total = 0;
    let ge = 0;
    let le = 0;
    let two = 0;
    for (let s = 0; s < dist.length; s++) {
      const c = dist[s];
      if (c === 0) continue;
      total += c;
      if (s >= obs2) ge += c;
      if (s <= obs2) le += c;
      if (Math.abs(s - center2) >= dev) two += c;
    }
    res.p_exact_conditional = Math.min(1, two / total);
    res.p_exact_conditional_greater = Math.min(1, ge / total);
    res.p_exact_conditional_less = Math.min(1, le / total);
  }
  res.p_scipy_auto = autoMethod === 'exact' ? res.p_exact_scipy : (res.p_asymptotic_cc ?? (sigma === 0 ? 1 : null));
  res.p_value = res.p_exact_conditional ?? res.p_asymptotic_cc;
  res.p_method = res.p_exact_conditional !== null ? 'exact_conditional' : res.p_asymptotic_cc !== null ? 'asymptotic_cc' : null;
  return res;
}
