/**
 * Exact sample-ratio (data-completeness) tests for pilot-sized counts: a few dozen territories, a few
 * hundred opportunities. The chi-square approximation is poor when expected counts are small
 * (Cochran 1954), and refusing to test below 100 units ("too little data") leaves a 30-territory
 * pilot without any check. The exact test has no minimum size; what it has is a smallest attainable
 * p-value, which says honestly whether the check could ever flag at its level.
 *
 *  - 2 arms: exact two-sided binomial test, 'minlike' rule (scipy.stats.binomtest, R binom.test):
 *    p = Σ P(K = j) over j with P(K = j) ≤ P(K = k)·(1 + 1e-7);
 *  - k ≥ 3 arms: the exact multinomial goodness-of-fit test with the same rule over all
 *    C(n + k − 1, k − 1) outcomes (Read & Cressie 1988 §5; the probability-ordering test of
 *    R EMT::multinomial.test), enumerated when there are at most `maxOutcomes` of them;
 *  - above that budget the expected counts are large and the chi-square test (srm.ts) is used.
 * `min_attainable_p`: the p-value of the least likely outcome (ties included): if it is ≥ α no
 * outcome at all could be flagged, and the check says so instead of reporting "no mismatch".
 * Reference values: test/fixtures/few-cluster/srm-exact.json (scipy binomtest; brute-force sums of
 * scipy.stats.multinomial.pmf).
 */
import { COMPLETENESS_ALPHA } from './completeness';
import { chiSquareGoodnessOfFit } from './srm';

/** Result of `exactSampleRatioTest`. */
export interface ExactSrmResult {
  method: 'exact_binomial' | 'exact_multinomial' | 'chi_square_goodness_of_fit';
  n_total: number;
  expected_counts: number[];
  p_value: number;
  /** smallest p any outcome with this total could give (null for the chi-square fallback) */
  min_attainable_p: number | null;
  /** outcomes enumerated (null for the chi-square fallback) */
  outcomes: number | null;
}

/** ln n! for 0..n. */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) out[i] = out[i - 1] + Math.log(i);
  return out;
}

/** Number of compositions of n into k non-negative parts, C(n + k − 1, k − 1), capped at cap + 1. */
function compositions(n: number, k: number, cap: number): number {
  let c = 1;
  for (let i = 1; i < k; i++) {
    c = (c * (n + i)) / i;
    if (c > cap) return cap + 1;
  }
  return Math.round(c);
}

/**
 * Exact test of observed counts per arm against designed ratios (see the file header).
 * @param observed non-negative integer counts per arm (k ≥ 2)
 * @param ratios designed weights per arm, finite and > 0 (need not sum to 1)
 * @param opts.maxOutcomes enumeration budget for k ≥ 3 arms (default 2,000,000)
 * @returns null when the total count is 0 (nothing to test)
 * @throws RangeError as chiSquareGoodnessOfFit (lengths, negative or fractional counts, bad ratios)
 */
export function exactSampleRatioTest(observed: readonly number[], ratios: readonly number[], opts: { maxOutcomes?: number } = {}): ExactSrmResult | null {
  const chi = chiSquareGoodnessOfFit(observed, ratios); // validates the input
  const n = chi.n_total;
  if (n === 0) return null;
  const k = observed.length;
  const maxOutcomes = opts.maxOutcomes ?? 2_000_000;
  const nOutcomes = compositions(n, k, maxOutcomes);
  if (nOutcomes > maxOutcomes) {
    return { method: 'chi_square_goodness_of_fit', n_total: n, expected_counts: chi.expected_counts, p_value: chi.p_value!, min_attainable_p: null, outcomes: null };
  }
  const wsum = ratios.reduce((s, w) => s + w, 0);
  const logp = ratios.map((w) => Math.log(w / wsum));
  const lf = logFactorials(n);
  const lpOf = (x: readonly number[]): number => x.reduce((s, xi, i) => s + xi * logp[i] - lf[xi], lf[n]);
  const lpObs = lpOf(observed);
  const thresholdObs = lpObs + Math.log1p(1e-7);
  let total = 0;
  let minLp = Infinity;
  let minSum = 0;
  const x = new Array<number>(k).fill(0);
  const visit = (lp: number): void => {
    const pr = Math.exp(lp);
    if (lp <= thresholdObs) total += pr;
    if (lp < minLp - Math.log1p(1e-7)) {
      minLp = lp;
      minSum = pr;
    } else if (lp <= minLp + Math.log1p(1e-7)) {
      minSum += pr;
      minLp = Math.min(minLp, lp);
    }
  };
  // depth-first over x_0..x_{k−2}; the last part takes the rest
  const walk = (i: number, rest: number, acc: number): void => {
    if (i === k - 1) {
      x[i] = rest;
      visit(acc + rest * logp[i] - lf[rest]);
      return;
    }
    for (let v = 0; v <= rest; v++) {
      x[i] = v;
      walk(i + 1, rest - v, acc + v * logp[i] - lf[v]);
    }
  };
  walk(0, n, lf[n]);
  return {
    method: k === 2 ? 'exact_binomial' : 'exact_multinomial',
    n_total: n,
    expected_counts: chi.expected_counts,
    p_value: Math.min(1, total),
    min_attainable_p: Math.min(1, minSum),
    outcomes: nOutcomes,
  };
}

/** One exact completeness check, in the shape reports show. */
export interface ExactCompletenessCheck {
  method: ExactSrmResult['method'];
  what: string;
  observed: number[];
  expected_ratio: number[];
  expected_counts: number[] | null;
  p_value: number | null;
  min_attainable_p: number | null;
  df: number;
  /** 'too_little_data': no outcome with this total could be flagged at alpha (or nothing to test) */
  state: 'ok' | 'mismatch' | 'too_little_data';
  /** plain-language sentence for the report (never an enum code) */
  note: string;
}

/**
 * Data-completeness check with the exact test (exactSampleRatioTest): flags p < alpha (default
 * 0.001, Kohavi, Tang & Xu 2020 ch. 21); when even the most lopsided outcome could not reach alpha
 * the check says it cannot detect a mismatch at this size (state 'too_little_data'), otherwise it
 * reports the exact p however small the pilot.
 * @param what what was counted (starts the note)
 * @param observed counts per arm; ratios expected weights per arm (a zero ratio: the check cannot run)
 */
export function exactCompletenessCheck(what: string, observed: readonly number[], ratios: readonly number[], opts: { alpha?: number; maxOutcomes?: number } = {}): ExactCompletenessCheck {
  const alpha = opts.alpha ?? COMPLETENESS_ALPHA;
  const base = { what, observed: [...observed], expected_ratio: [...ratios], df: observed.length - 1 };
  const total = observed.reduce((s, v) => s + v, 0);
  if (ratios.some((r) => !(r > 0)) || total === 0) {
    return { ...base, method: 'exact_multinomial', expected_counts: null, p_value: null, min_attainable_p: null, state: 'too_little_data', note: `${what}: there is no data, or an arm has no expected share, so the check cannot run.` };
  }
  const r = exactSampleRatioTest(observed, ratios, opts)!;
  const common = { ...base, method: r.method, expected_counts: r.expected_counts, p_value: r.p_value, min_attainable_p: r.min_attainable_p };
  const test = r.method === 'chi_square_goodness_of_fit' ? 'chi-square' : 'exact';
  if (r.min_attainable_p !== null && r.min_attainable_p >= alpha) {
    return { ...common, state: 'too_little_data', note: `${what}: with ${total} in total even the most lopsided split would give p = ${r.min_attainable_p.toPrecision(2)} ≥ ${alpha}, so this check cannot detect a mismatch at this size; it is not evidence that nothing is missing.` };
  }
  if (r.p_value < alpha) {
    return { ...common, state: 'mismatch', note: `${what}: the split differs from the expected ratio (${test} p = ${r.p_value.toExponential(2)} < ${alpha}); investigate missing or misattributed data before trusting the results.` };
  }
  return { ...common, state: 'ok', note: `${what}: consistent with the expected ratio (${test} p = ${r.p_value.toFixed(4)}).` };
}
