/**
 * Data completeness (the territory-level sample-ratio check): are all assigned territories reporting,
 * and do the arms' opportunity counts match what the design and the pre-period lead us to expect?
 *  - territories reporting (≥ 1 opportunity engaged in the test period) per arm, against the designed
 *    territory counts per arm (chi-square goodness of fit, designed ratios — never 50/50, pitfall P6);
 *  - test-period opportunities per arm against each arm's share of the PRE-period opportunities of the
 *    same territories (territories differ in size, so the pre-period share is the expected ratio);
 *  - a check is flagged when p < 0.001 (Kohavi, Tang & Xu 2020, ch. 21), and is in state
 *    'too_little_data' when an expected count is below 5 (Cochran 1954) or the total is below
 *    `minTotal` (default 100: with fewer units a chi-square check cannot detect a loss of 10% of one
 *    arm's data, so "no mismatch" would mean nothing).
 */
import { chiSquareGoodnessOfFit } from './srm';

/** Default flag level of the completeness checks. */
export const COMPLETENESS_ALPHA = 0.001;

/** One chi-square completeness check. */
export interface CompletenessCheck {
  method: 'chi_square_goodness_of_fit';
  what: string;
  observed: number[];
  expected_ratio: number[];
  expected_counts: number[] | null;
  chi2: number | null;
  df: number;
  p_value: number | null;
  state: 'ok' | 'mismatch' | 'too_little_data';
  note: string;
}

/**
 * Chi-square completeness check of observed counts per arm against expected ratios.
 * @param ratios expected ratios (any positive weights); a zero or missing ratio gives 'too_little_data'
 */
export function completenessCheck(
  what: string,
  observed: readonly number[],
  ratios: readonly number[],
  opts: { alpha?: number; minTotal?: number } = {},
): CompletenessCheck {
  const alpha = opts.alpha ?? COMPLETENESS_ALPHA;
  const minTotal = opts.minTotal ?? 100;
  const total = observed.reduce((s, v) => s + v, 0);
  const base = { method: 'chi_square_goodness_of_fit' as const, what, observed: [...observed], expected_ratio: [...ratios], df: observed.length - 1 };
  if (ratios.some((r) => !(r > 0)) || total === 0) {
    return { ...base, expected_counts: null, chi2: null, p_value: null, state: 'too_little_data', note: `${what}: no data or no expected share for an arm; the check cannot run.` };
  }
  const r = chiSquareGoodnessOfFit(observed, ratios);
  const tooLittle = r.low_expected_counts || total < minTotal;
  const state = tooLittle ? 'too_little_data' : r.p_value! < alpha ? 'mismatch' : 'ok';
  const note =
    state === 'too_little_data'
      ? `${what}: ${total} in total (smallest expected count ${r.min_expected_count.toFixed(1)}) is too little data for this check to mean anything; it is not evidence of "no mismatch".`
      : state === 'mismatch'
        ? `${what}: the split differs from the expected ratio (chi-square p = ${r.p_value!.toExponential(2)} < ${alpha}); investigate missing or misattributed data before trusting the results.`
        : `${what}: consistent with the expected ratio (chi-square p = ${r.p_value!.toFixed(4)}).`;
  return { ...base, expected_counts: r.expected_counts, chi2: r.chi2, p_value: r.p_value, state, note };
}
