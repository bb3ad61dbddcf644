import { studentTInv } from '../../stats/distributions';
import { PrimaryMethodKey } from '../../stats/primary-method';
import { RandomizationTestInput, RandomizationTestResult } from '../../stats/randomization-inference';
import { TTestResult } from '../../stats/welch';
import { KpiResult, MethodEstimate } from '../report.types';
import { RandomizationRuns, RandomizationSetup, randomizationInput } from './comparison-inputs';
import { CovariateAdjustedMethods } from './covariate-adjusted-methods';
import { randomizationEstimate, randomizationMethodName, welchEstimate } from './method-estimates';

/** The method label of the Welch numbers that stand in for a locked Lin regression adjustment that cannot be computed. */
export const LIN_STAND_IN = 'welch_t in place of the locked Lin regression adjustment, which could not be computed';

/** The primary method's numbers and the randomization test behind them (to recompute its CI at other levels), or null. */
export interface PrimaryEstimate {
  estimate: MethodEstimate;
  test: RandomizationTestInput | null;
}

/** What the primary method may draw on: the analyses already run for the KPI. */
export interface PrimaryCandidates {
  /** the test-period values per unit (null = undefined) */
  values: readonly (number | null)[];
  /** the unadjusted randomization test (with its CI when the primary method is randomization inference) */
  ri: RandomizationTestResult;
  /** the covariate-adjusted analyses, null without a pre-period KPI */
  adjusted: CovariateAdjustedMethods | null;
  welch: TTestResult;
  setup: RandomizationSetup;
  alpha: number;
}

/** Drops the smallest attainable p of a randomization block (KpiResult.primary is a plain MethodEstimate). */
function withoutFloor(e: MethodEstimate & { min_attainable_p: number | null }): MethodEstimate {
  const { min_attainable_p: _m, ...rest } = e;
  return rest;
}

/**
 * The numbers of the primary method `key`, which decide: randomization inference on the CUPED-adjusted
 * KPI, Lin's regression adjustment (HC2), or randomization inference on the KPI. A method that cannot
 * run falls back: CUPED-adjusted randomization inference to the unadjusted test (a second run, for its
 * CI, seed of the unadjusted test), Lin's adjustment to Welch, labelled `LIN_STAND_IN` with a note that
 * names the locked method and why it could not be computed. Yields the tests it needs.
 * Sources: Imbens & Rubin (2015) ch. 5; Deng et al. (2013); Lin (2013); Welch (1947).
 */
export function* primaryEstimate(key: PrimaryMethodKey, cand: PrimaryCandidates): RandomizationRuns<PrimaryEstimate> {
  const riCuped = cand.adjusted?.randomizationCuped ?? null;
  if (key === 'randomization_inference_cuped' && riCuped && riCuped.status === 'ok') {
    return { estimate: withoutFloor(riCuped), test: cand.adjusted!.cupedTest! };
  }
  const regression = cand.adjusted?.regression ?? null;
  if (key === 'lin_regression_hc2' && regression && regression.status === 'ok') return { estimate: regression, test: null };
  if (key === 'randomization_inference' || key === 'randomization_inference_cuped') return yield* unadjustedRandomization(key, cand);
  // The locked primary method cannot be computed: the Welch numbers stand in, and the block says so.
  const why = regression ? (regression.note ?? 'it could not be computed') : 'the KPI has no pre-period value to adjust for';
  const note =
    `the primary method locked in the approved plan, Lin's regression adjustment, could not be computed (${why}); ` +
    "Welch's t on the unadjusted KPI is reported in its place, which is not the pre-registered analysis";
  return { estimate: welchEstimate(LIN_STAND_IN, cand.welch, note), test: null };
}

/** Randomization inference on the unadjusted KPI as the primary method, or as the fallback of the CUPED-adjusted one. */
function* unadjustedRandomization(key: PrimaryMethodKey, cand: PrimaryCandidates): RandomizationRuns<PrimaryEstimate> {
  const name = randomizationMethodName(cand.ri);
  let withCi = randomizationEstimate(`${name}; CI by test inversion`, cand.ri);
  if (key !== 'randomization_inference') {
    // No usable pre-period KPI: the same test without adjustment (its CI needs a second run).
    const again: RandomizationTestResult = yield randomizationInput(cand.setup, cand.values, '', cand.alpha);
    const why = cand.adjusted?.randomizationCuped.status === 'zero_variance' ? 'the CUPED-adjusted KPI is degenerate' : 'no usable pre-period KPI';
    withCi = randomizationEstimate(`${name}; CI by test inversion (${why}, unadjusted)`, again);
  }
  return { estimate: withoutFloor(withCi), test: randomizationInput(cand.setup, cand.values) };
}

/**
 * The primary method's CI at each level α' of `levels` (secondary/guardrail KPIs: the candidates of
 * the Holm-consistent intervals): estimate ± t_{1−α'/2, df}·SE when the method has an SE and df, else
 * by inverting its randomization test at α' (yielded); no rows when the primary method has no p.
 */
export function* primaryIntervals(primary: PrimaryEstimate, levels: readonly number[]): RandomizationRuns<NonNullable<KpiResult['primary_intervals']>> {
  const m = primary.estimate;
  const rows: NonNullable<KpiResult['primary_intervals']> = [];
  if (m.status !== 'ok' || m.p_value === null) return rows;
  for (const level of levels) {
    if (m.se !== null && m.df !== null && m.estimate !== null) {
      const q = studentTInv(1 - level / 2, m.df);
      rows.push({ alpha: level, ci_low: m.estimate - q * m.se, ci_high: m.estimate + q * m.se });
    } else if (primary.test) {
      const again: RandomizationTestResult = yield { ...primary.test, ci: { alpha: level } };
      rows.push({ alpha: level, ci_low: again.ci?.low ?? null, ci_high: again.ci?.high ?? null });
    }
  }
  return rows;
}

/**
 * The primary block of a KPI that cannot be judged (its status is not 'ok', e.g. one treated
 * territory): the method's estimate is kept as a description, but no p-value and no CI are
 * reported, so nothing downstream (decision p, multiplicity family, decision summary) can decide on
 * it. The block takes the KPI's status and says why in `note`.
 */
export function undecidedPrimary(m: MethodEstimate, status: Exclude<KpiResult['status'], 'ok'>, reason: string | null): MethodEstimate {
  const why = `not used for a decision: ${reason ?? status}`;
  return { ...m, status, p_value: null, ci_low: null, ci_high: null, note: m.note ? `${why}; ${m.note}` : why };
}
