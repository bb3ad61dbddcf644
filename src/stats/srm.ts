/**
 * Sample-ratio-mismatch (SRM) / data-completeness check: do the observed counts per arm (territories
 * reporting, opportunities) match the DESIGNED allocation ratios? (Kohavi, Tang & Xu 2020, ch. 21.)
 * Conventions (shared/reference/srm.json): expected_i = N·w_i/Σw (ratios may be unnormalised
 * weights; never assume 50/50 — pitfall P6), chi2 = Σ(O_i − E_i)²/E_i, df = k − 1, p = P(χ²_df ≥ chi2)
 * computed as a direct upper tail (pitfall P1: 6000 vs 4000 at 50/50 gives 5.50725e-89, never 0).
 */
import { chiSquareSf, lnGamma } from './distributions';

/** Result of `chiSquareGoodnessOfFit`. */
export interface SrmResult {
  n_total: number;
  /** N·w_i/Σw per arm, same order as the input */
  expected_counts: number[];
  /** null when n_total = 0 */
  chi2: number | null;
  df: number;
  /** upper-tail chi-square p; null when n_total = 0 */
  p_value: number | null;
  /** exact two-sided binomial p (minlike rule) for exactly 2 arms, else null */
  binomial_exact_p: number | null;
  /** smallest expected count; the chi-square approximation is poor below 5 (Cochran 1954) */
  min_expected_count: number;
  /** true when some expected count is below 5: the check has too little data to mean much */
  low_expected_counts: boolean;
  status: 'ok' | 'insufficient_data';
}

/** ln P(K = k) for K ~ Binomial(n, p), 0 < p < 1. */
function binomialLogPmf(k: number, n: number, p: number): number {
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * Exact two-sided binomial test of k ~ Bin(n, p) with the 'minlike' rule of scipy.stats.binomtest /
 * R binom.test: p = Σ P(K = j) over all j with P(K = j) ≤ P(K = k)·(1 + 1e-7).
 */
function binomialTwoSidedP(k: number, n: number, p: number): number {
  const threshold = binomialLogPmf(k, n, p) + Math.log1p(1e-7);
  let total = 0;
  for (let j = 0; j <= n; j++) {
    const lp = binomialLogPmf(j, n, p);
    if (lp <= threshold) total += Math.exp(lp);
  }
  return Math.min(1, total);
}

/**
 * Chi-square goodness-of-fit SRM test of observed counts per arm against designed ratios, plus the
 * exact binomial p for two arms. Reference implementations: scipy.stats.chisquare(observed,
 * f_exp = N·w/Σw), scipy.stats.binomtest (two-sided), R chisq.test(x, p = w/Σw), binom.test.
 *
 * @param observed non-negative integer counts per arm (k ≥ 2 arms)
 * @param ratios designed allocation weights per arm, > 0, same length (need not sum to 1)
 * @returns status 'insufficient_data' with null chi2/p when the total count is 0
 * @throws RangeError on mismatched lengths, fewer than 2 arms, a negative or non-integer count,
 *   or a non-positive / non-finite ratio
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], ratios: readonly number[]): SrmResult {
  const k = observed.length;
  if (k < 2) throw new RangeError(`an SRM check needs at least 2 arms, got ${k}`);
  if (ratios.length !== k) throw new RangeError(`observed has ${k} arms but ratios has ${ratios.length}`);
  for (const o of observed) {
    if (!(Number.isInteger(o) && o >= 0)) throw new RangeError(`observed counts must be non-negative integers, got ${o}`);
  }
  for (const w of ratios) {
    if (!(w > 0 && Number.isFinite(w))) throw new RangeError(`ratios must be finite positive numbers, got ${w}`);
  }
  const n_total = observed.reduce((s, o) => s + o, 0);
  const weightSum = ratios.reduce((s, w) => s + w, 0);
  const expected_counts = ratios.map((w) => (n_total * w) / weightSum);
  const min_expected_count = Math.min(...expected_counts);
  const df = k - 1;
  const base = {
    n_total,
    expected_counts,
    df,
    min_expected_count,
    low_expected_counts: min_expected_count < 5,
  };
  if (n_total === 0) {
    return { ...base, chi2: null, p_value: null, binomial_exact_p: null, status: 'insufficient_data' };
  }
  let chi2 = 0;
  for (let i = 0; i < k; i++) {
    const d = observed[i] - expected_counts[i];
    chi2 += (d * d) / expected_counts[i];
  }
  const binomial_exact_p = k === 2 ? binomialTwoSidedP(observed[0], n_total, ratios[0] / weightSum) : null;
  return { ...base, chi2, p_value: chiSquareSf(chi2, df), binomial_exact_p, status: 'ok' };
}
