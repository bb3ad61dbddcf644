/**
 * Randomization p-values from a reference set of statistics (conventions in the header of
 * randomization-inference.ts and shared/reference/permutation.json): tie-tolerant counts against
 * the observed statistic, the exact (count / N) and Monte Carlo ((1 + count) / (B + 1)) p-values,
 * the data-based floor of the two-sided p, and the result shells shared by every randomization test.
 */
import type { RandomizationTestResult } from './randomization-inference';

/**
 * The result shell with every inferential field null and status 'insufficient_data'.
 *
 * @param method 'exact' or 'monte_carlo' (what the design's size calls for)
 * @param statistic the statistic the test uses
 * @param nAssignments exact number of assignments of the design, null when above MAX_SAFE_INTEGER
 * @param strata per-stratum summary (territories, treated, control)
 */
export function insufficientResult(
  method: RandomizationTestResult['method'],
  statistic: RandomizationTestResult['statistic'],
  nAssignments: number | null,
  strata: RandomizationTestResult['strata'],
): RandomizationTestResult {
  return {
    method,
    statistic,
    n_assignments: nAssignments,
    draws: null,
    seed: null,
    observed: null,
    count_abs_ge: null,
    count_ge: null,
    count_le: null,
    p_two_sided: null,
    p_greater: null,
    p_less: null,
    p_two_sided_doubled: null,
    min_attainable_p: null,
    n_undefined: 0,
    strata,
    status: 'insufficient_data',
  };
}

/**
 * Checks the enumeration / Monte Carlo budget of a randomization test.
 *
 * @param maxExact enumerate exactly up to this many assignments (positive integer)
 * @param draws Monte Carlo draws B otherwise (positive integer)
 * @throws RangeError when either is not a positive integer
 */
export function validateBudget(maxExact: number, draws: number): void {
  if (!Number.isInteger(maxExact) || maxExact < 1) throw new RangeError(`maxExact must be a positive integer, got ${maxExact}`);
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError(`draws must be a positive integer, got ${draws}`);
}

/** Counts of reference statistics against the observed one (see `makeTally`). */
export interface Tally {
  /** #{|T_a| ≥ |T_obs| − tol} */
  countAbsGe: number;
  /** #{T_a ≥ T_obs − tol} */
  countGe: number;
  /** #{T_a ≤ T_obs + tol} */
  countLe: number;
  /** statistics counted (defined ones) */
  evaluated: number;
  /** assignments without a statistic (NaN: an arm had no observed value) */
  undefinedCount: number;
}

/**
 * Accumulates tie-tolerant comparisons of statistics against the observed one, with
 * tol = 1e-9·max(1, |T_obs|) (ties of floating sums; permutation.json convention). NaN statistics
 * are counted in `undefinedCount` only.
 *
 * @param observed the observed statistic T_obs (finite)
 * @returns the running `tally` and `add(t)`, which counts one reference statistic
 */
export function makeTally(observed: number): { tally: Tally; add: (t: number) => void } {
  const tol = 1e-9 * Math.max(1, Math.abs(observed));
  const absObs = Math.abs(observed);
  const tally: Tally = { countAbsGe: 0, countGe: 0, countLe: 0, evaluated: 0, undefinedCount: 0 };
  const add = (t: number): void => {
    if (Number.isNaN(t)) {
      tally.undefinedCount++;
      return;
    }
    tally.evaluated++;
    if (Math.abs(t) >= absObs - tol) tally.countAbsGe++;
    if (t >= observed - tol) tally.countGe++;
    if (t <= observed + tol) tally.countLe++;
  };
  return { tally, add };
}

/** Largest |T| of a reference set and how many statistics reach it (see `makeMaxAbsTracker`). */
export interface MaxAbsState {
  /** largest |T| seen (−1 before any defined statistic) */
  maxAbs: number;
  /** statistics with |T| within tol = 1e-9·max(1, |T|) of `maxAbs` */
  atMax: number;
}

/**
 * Tracks the largest |T| in the reference set and how many assignments reach it, the data-based
 * floor of the two-sided p of a design-aware exact test (min_attainable_p = atMax / N). NaN
 * statistics are ignored.
 *
 * @returns the running `state` and `track(t)`, which records one reference statistic
 */
export function makeMaxAbsTracker(): { state: MaxAbsState; track: (t: number) => void } {
  const state: MaxAbsState = { maxAbs: -1, atMax: 0 };
  const track = (t: number): void => {
    if (Number.isNaN(t)) return;
    const a = Math.abs(t);
    const tol = 1e-9 * Math.max(1, a);
    if (a > state.maxAbs + tol) {
      state.maxAbs = a;
      state.atMax = 1;
    } else if (a >= state.maxAbs - tol) state.atMax++;
  };
  return { state, track };
}

/**
 * The p-values of a finished reference set: p = min(1, (count + plusOne) / denominator) for the
 * two-sided, greater and less alternatives, and p_two_sided_doubled = min(1, 2·min(p_greater,
 * p_less)) (scipy's definition, informational).
 *
 * @param base the result shell (method, statistic, strata, design fields) to complete
 * @param observed the observed statistic
 * @param tally the counts over the reference set
 * @param denominator exact: N (the reference assignments); Monte Carlo: B + 1
 * @param plusOne exact: 0; Monte Carlo: 1 (the observed assignment, Phipson & Smyth 2010)
 * @param extra draws, seed and min_attainable_p of the run
 * @returns a new result with status 'ok'
 */
export function finish(
  base: RandomizationTestResult,
  observed: number,
  tally: Tally,
  denominator: number,
  plusOne: number,
  extra: Pick<RandomizationTestResult, 'draws' | 'seed' | 'min_attainable_p'>,
): RandomizationTestResult {
  const p_two_sided = Math.min(1, (tally.countAbsGe + plusOne) / denominator);
  const p_greater = Math.min(1, (tally.countGe + plusOne) / denominator);
  const p_less = Math.min(1, (tally.countLe + plusOne) / denominator);
  return {
    ...base,
    ...extra,
    observed,
    count_abs_ge: tally.countAbsGe,
    count_ge: tally.countGe,
    count_le: tally.countLe,
    p_two_sided,
    p_greater,
    p_less,
    p_two_sided_doubled: Math.min(1, 2 * Math.min(p_greater, p_less)),
    n_undefined: tally.undefinedCount,
    status: 'ok',
  };
}
