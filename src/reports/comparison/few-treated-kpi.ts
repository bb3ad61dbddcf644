import { analyseFewTreated, FewTreatedInputError, FewTreatedResult } from '../../stats/synthetic/few-treated';
import type { SynthEstimator } from '../../stats/synthetic/synthdid';
import { FewTreatedBlock, MethodEstimate } from '../report.types';

/**
 * The estimator that decides a chosen (few-treated) pilot: SDID, CI and p both from one method, the
 * placebo randomization test over re-assignments of the treated set (permutationTestInversion in stats/synthetic/randomization-test.ts).
 */
export const FEW_TREATED_DECIDING: SynthEstimator = 'sdid';

/** Placebo replications of the report (the paper's 200). */
export const FEW_TREATED_REPLICATIONS = 200;

/** What a chosen design can and cannot claim (the report's decision text quotes it). */
export const FEW_TREATED_CLAIM =
  'No randomization: the treated territories were chosen, so this is a comparison of the treated territories with a synthetic ' +
  'counterfactual built from the donor territories (synthetic difference-in-differences), not a randomized estimate. It holds if, ' +
  'without the treatment, the treated territories would have kept tracking the weighted donors as they did in the pre-period; a ' +
  'shock that hit only the treated territories during the test period, or the reason they were chosen, can produce the same gap. ' +
  'Welch, randomization inference and CR2 need several randomized treated territories and do not decide here.';

/**
 * The few-treated analysis of one additive KPI of a chosen pilot (issue 12): DiD, SC and SDID on the
 * territory × week panel (pre-period then test period), placebo-SE CIs, the placebo-in-space
 * permutation p with its smallest attainable value, top donor weights, pre-period RMSPE, the
 * poor-fit flag, the leave-one-donor-out range, and SDID's series and placebo gaps for the chart.
 *
 * @param weekly per assigned unit (same order as `codes`/`arms`): weekly values of the pre-period and
 *   the test period (complete calendars, empty weeks 0), or null
 * @param codes territory codes of the units; `arms` their arm keys; `treatmentArm` the treated arm
 * @param opts alpha (CI level 1 − α), seed of the placebo permutations
 * @returns the block, and `primary`: SDID's numbers (placebo SE shown; CI and p from the
 *   placebo randomization test, one method) as the deciding method; status 'insufficient_data' with the core's reason when the panel is unusable
 */
export function fewTreatedKpi(
  weekly: readonly ({ pre: readonly number[]; test: readonly number[] } | null)[],
  codes: readonly string[],
  arms: readonly string[],
  treatmentArm: string,
  unit: string,
  opts: { alpha: number; seed: number },
): { block: FewTreatedBlock; primary: MethodEstimate } {
  const method = `sdid_placebo_randomization (synthetic difference-in-differences, Arkhangelsky et al. 2021; CI and p from one placebo randomization test: the treated set re-assigned among all territories (up to ${FEW_TREATED_REPLICATIONS} re-assignments, every one when fewer), p = (1 + #{|re-assigned estimate| ≥ |estimate|}) / (1 + M), CI by test inversion; placebo SE shown)`;
  const panel = { unit: [] as string[], week: [] as number[], value: [] as number[] };
  let preWeeks = 0;
  weekly.forEach((w, i) => {
    if (!w) return;
    preWeeks = Math.max(preWeeks, w.pre.length);
    [...w.pre, ...w.test].forEach((v, k) => {
      panel.unit.push(codes[i]);
      panel.week.push(k);
      panel.value.push(v);
    });
  });
  const treated = codes.filter((_, i) => arms[i] === treatmentArm);
  let result: FewTreatedResult;
  try {
    result = analyseFewTreated(panel, treated, { preWeeks, replications: FEW_TREATED_REPLICATIONS, seed: opts.seed, level: 1 - opts.alpha, topDonors: 10 });
  } catch (err) {
    if (!(err instanceof FewTreatedInputError)) throw err;
    const note = `${err.code}: ${err.message}`;
    return {
      block: { deciding_estimator: FEW_TREATED_DECIDING, unit, claim: FEW_TREATED_CLAIM, status: 'insufficient_data', note, result: null },
      primary: { method, status: 'insufficient_data', estimate: null, ci_low: null, ci_high: null, se: null, df: null, p_value: null, note },
    };
  }
  const sdid = result.estimates.find((e) => e.estimator === FEW_TREATED_DECIDING)!;
  // only the deciding estimator keeps its placebo gaps (the chart's grey lines); the others keep their series
  const slim: FewTreatedResult = { ...result, estimates: result.estimates.map((e) => (e.estimator === FEW_TREATED_DECIDING ? e : { ...e, placebo_gaps: [] })) };
  const note =
    `${unit}; ${result.treated.length} treated vs ${result.donors.length} donors, ${result.pre_weeks} pre-period weeks; ` +
    `placebo-in-space permutation p ${sdid.permutation_p === null ? 'not computed' : sdid.permutation_p.toFixed(3)} (smallest attainable ${sdid.permutation_min_p.toFixed(3)}; ${sdid.permutation_decision.reason})` +
    (result.poor_fit ? `; poor fit: the treated territories lie outside the donors' range in ${result.outside_range_weeks} pre-period week(s)` : '');
  // the test decides only when its attainable size reaches the calibration band (rankTestDecision);
  // otherwise the report shows the numbers in the block and does not decide on them
  const offered = sdid.test_decision.offered;
  return {
    block: { deciding_estimator: FEW_TREATED_DECIDING, unit, claim: FEW_TREATED_CLAIM, status: 'ok', note: offered ? null : sdid.test_decision.reason, result: slim },
    primary: {
      method,
      status: !offered ? 'not_applicable' : sdid.p_value === null ? 'insufficient_data' : 'ok',
      estimate: sdid.estimate,
      ci_low: offered ? (sdid.ci?.[0] ?? null) : null,
      ci_high: offered ? (sdid.ci?.[1] ?? null) : null,
      se: sdid.placebo_se,
      df: null,
      p_value: offered ? sdid.p_value : null,
      note: offered ? note : `${note}; SDID's randomization test ${sdid.test_decision.reason}: no decision`,
    },
  };
}
