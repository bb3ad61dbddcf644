/**
 * Matched-pair analyses: paired t-test and Wilcoxon signed-rank test on d_i = treatment_i − control_i.
 *
 * Conventions (shared/reference/paired.json):
 *  - paired t: t = mean(d)/(sd(d)/√n), sd with n − 1, df = n − 1, CI = mean(d) ∓ t_{1−α/2,n−1}·se;
 *    sd = 0 → t, p and CI null (status 'zero_variance');
 *  - Wilcoxon: zero differences dropped (zero_method 'wilcox'), midranks of |d|; W+ = Σ ranks of positive d;
 *    exact conditional p over all 2^n sign assignments of the (mid)ranks: p_exact = min(1, 2·min(P(W+ ≥ w+),
 *    P(W+ ≤ w+))); normal approximation with the tie-corrected variance, with and without continuity
 *    correction. The exact p is computed when n_nonzero ≤ `WILCOXON_EXACT_MAX_N`, else null.
 * Reference implementations: scipy.stats.ttest_rel, scipy.stats.wilcoxon; R t.test(paired = TRUE),
 * wilcox.test, exactRankTests::wilcox.exact.
 */
import { armMoments } from './descriptive';
import { normalSf, studentTCdf, studentTInv, studentTSf } from './distributions';
import { midranks } from './ranks';

const P_FLOOR = Number.MIN_VALUE;

/** Largest number of non-zero differences for which the exact signed-rank distribution is enumerated. */
export const WILCOXON_EXACT_MAX_N = 200;

function differences(treatment: readonly number[], control: readonly number[]): number[] {
  if (treatment.length !== control.length) throw new RangeError(`paired arrays differ in length (${treatment.length} vs ${control.length})`);
  return treatment.map((t, i) => {
    const d = t - control[i];
    if (!Number.isFinite(d)) throw new RangeError(`paired values must be finite, got ${t} and ${control[i]}`);
    return d;
  });
}

/** Result of `pairedTTest` (units of the KPI). */
export interface PairedTTestResult {
  method: 'paired_t';
  status: 'ok' | 'insufficient_data' | 'zero_variance';
  n_pairs: number;
  mean_diff: number | null;
  sd_diff: number | null;
  se: number | null;
  df: number | null;
  t: number | null;
  p_two_sided: number | null;
  p_greater: number | null;
  p_less: number | null;
  ci_low: number | null;
  ci_high: number | null;
  /** the 95% interval names of paired.json, equal to ci_low/ci_high when alpha = 0.05 */
  ci95_low: number | null;
  ci95_high: number | null;
  conf_level: number;
}

/**
 * Paired t-test of treatment vs control over aligned pairs.
 * @param treatment value of the treated territory of each pair; @param control the control of the same pair
 * @throws RangeError on different lengths or non-finite values
 */
export function pairedTTest(treatment: readonly number[], control: readonly number[], opts: { alpha?: number } = {}): PairedTTestResult {
  const alpha = opts.alpha ?? 0.05;
  const d = differences(treatment, control);
  const { n, mean: m, variance } = armMoments(d);
  const sd = variance === null ? null : Math.sqrt(variance);
  const base: PairedTTestResult = {
    method: 'paired_t',
    status: 'insufficient_data',
    n_pairs: n,
    mean_diff: m,
    sd_diff: sd,
    se: null,
    df: n >= 2 ? n - 1 : null,
    t: null,
    p_two_sided: null,
    p_greater: null,
    p_less: null,
    ci_low: null,
    ci_high: null,
    ci95_low: null,
    ci95_high: null,
    conf_level: 1 - alpha,
  };
  if (n < 2 || m === null || sd === null) return base;
  const se = sd / Math.sqrt(n);
  if (se === 0) return { ...base, status: 'zero_variance', se: 0 };
  const df = n - 1;
  const t = m / se;
  const q = studentTInv(1 - alpha / 2, df);
  const q95 = studentTInv(0.975, df);
  return {
    ...base,
    status: 'ok',
    se,
    t,
    p_two_sided: Math.max(P_FLOOR, Math.min(1, 2 * studentTSf(Math.abs(t), df))),
    p_greater: Math.max(P_FLOOR, studentTSf(t, df)),
    p_less: Math.max(P_FLOOR, studentTCdf(t, df)),
    ci_low: m - q * se,
    ci_high: m + q * se,
    ci95_low: m - q95 * se,
    ci95_high: m + q95 * se,
  };
}

/** Result of `wilcoxonSignedRank`. */
export interface WilcoxonSignedRankResult {
  method: 'wilcoxon_signed_rank';
  status: 'ok' | 'insufficient_data';
  n_nonzero: number;
  n_zero: number;
  w_plus: number;
  w_minus: number;
  /** min(W+, W−), scipy's two-sided statistic */
  statistic_scipy: number;
  has_ties: boolean;
  /** exact conditional p-values (null above WILCOXON_EXACT_MAX_N or with no non-zero difference) */
  p_exact: number | null;
  p_exact_greater: number | null;
  p_exact_less: number | null;
  mu: number;
  sd: number | null;
  z: number | null;
  p_normal: number | null;
  p_normal_greater: number | null;
  p_normal_cc: number | null;
  p_normal_cc_greater: number | null;
  /** the p a report uses: exact when computed, else the normal approximation with continuity correction */
  p_value: number | null;
  p_method: 'exact' | 'normal_cc' | null;
}

/**
 * Wilcoxon signed-rank test of paired differences (see the file header). Exact conditional
 * distribution by dynamic programming over the doubled midranks (integers), so ties are handled
 * exactly; counts as doubles (relative error ~1e-16 per step).
 */
export function wilcoxonSignedRank(treatment: readonly number[], control: readonly number[]): WilcoxonSignedRankResult {
  const all = differences(treatment, control);
  const d = all.filter((v) => v !== 0);
  const n = d.length;
  const { ranks, tieSizes } = midranks(d.map(Math.abs));
  let wPlus = 0;
  let total = 0;
  ranks.forEach((r, i) => {
    total += r;
    if (d[i] > 0) wPlus += r;
  });
  const wMinus = total - wPlus;
  const mu = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieSizes.reduce((s, t) => s + (t * t * t - t), 0) / 48;
  const sd = variance > 0 ? Math.sqrt(variance) : null;
  const res: WilcoxonSignedRankResult = {
    method: 'wilcoxon_signed_rank',
    status: n > 0 ? 'ok' : 'insufficient_data',
    n_nonzero: n,
    n_zero: all.length - n,
    w_plus: wPlus,
    w_minus: wMinus,
    statistic_scipy: Math.min(wPlus, wMinus),
    has_ties: tieSizes.some((t) => t > 1),
    p_exact: null,
    p_exact_greater: null,
    p_exact_less: null,
    mu,
    sd,
    z: null,
    p_normal: null,
    p_normal_greater: null,
    p_normal_cc: null,
    p_normal_cc_greater: null,
    p_value: null,
    p_method: null,
  };
  if (n === 0) return res;
  if (sd !== null) {
    const z = (wPlus - mu) / sd;
    const zcc = Math.max(0, Math.abs(wPlus - mu) - 0.5) / sd;
    res.z = z;
    res.p_normal = Math.max(P_FLOOR, Math.min(1, 2 * normalSf(Math.abs(z))));
    res.p_normal_greater = Math.max(P_FLOOR, normalSf(z));
    res.p_normal_cc = Math.max(P_FLOOR, Math.min(1, 2 * normalSf(zcc)));
    res.p_normal_cc_greater = Math.max(P_FLOOR, normalSf((wPlus - mu - 0.5) / sd));
  }
  if (n <= WILCOXON_EXACT_MAX_N) {
    const r2 = ranks.map((r) => Math.round(2 * r));
    const max = r2.reduce((s, v) => s + v, 0);
    let dist = new Float64Array(max + 1);
    dist[0] = 1;
    for (const r of r2) {
      const next = new Float64Array(max + 1);
      for (let s = 0; s <= max; s++) {
        if (dist[s] === 0) continue;
        next[s] += dist[s];
        next[s + r] += dist[s];
      }
      dist = next;
    }
    const w2 = Math.round(2 * wPlus);
    let ge = 0;
    let le = 0;
    let all2 = 0;
    for (let s = 0; s <= max; s++) {
      all2 += dist[s];
      if (s >= w2) ge += dist[s];
      if (s <= w2) le += dist[s];
    }
    res.p_exact_greater = ge / all2;
    res.p_exact_less = le / all2;
    res.p_exact = Math.min(1, 2 * Math.min(ge, le) / all2);
  }
  res.p_value = res.p_exact ?? res.p_normal_cc;
  res.p_method = res.p_exact !== null ? 'exact' : res.p_normal_cc !== null ? 'normal_cc' : null;
  return res;
}

