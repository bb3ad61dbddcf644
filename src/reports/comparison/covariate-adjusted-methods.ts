import { cuped, CupedResult, LinAdjustmentResult, linRegressionAdjustment } from '../../stats/covariate-adjustment';
import { KPI_CATALOGUE, KpiKey } from '../../kpis/kpi-catalogue';
import { RandomizationTestInput, RandomizationTestResult } from '../../stats/randomization-inference';
import { welchTTest } from '../../stats/welch';
import { KpiResult, MethodEstimate } from '../report.types';
import { ComparedArms, RandomizationRuns, RandomizationSetup, randomizationInput } from './comparison-inputs';
import { emptyEstimate, randomizationEstimate, randomizationMethodName, welchEstimate } from './method-estimates';

/** The analyses of one KPI that use its pre-period value as covariate (KpiResult.methods and pre_period). */
export interface CovariateAdjustedMethods {
  prePeriod: NonNullable<KpiResult['pre_period']>;
  cuped: NonNullable<KpiResult['methods']['cuped']>;
  regression: MethodEstimate;
  randomizationCuped: NonNullable<KpiResult['methods']['randomization_cuped']>;
  /**
   * the covariate-adjusted randomization test as it ran (without CI), to re-run it at other levels;
   * null when it did not run
   */
  cupedTest: RandomizationTestInput | null;
  changeScore: MethodEstimate;
}

/**
 * How the change score puts the two windows on one scale: `level` subtracts the values as they are
 * (per-deal means and shares do not grow with the window); `per_day` divides a window total by its
 * window's length in days; `unknown_lengths` refuses (a window total without the lengths).
 */
export type ChangeScoreScale = { kind: 'level' } | { kind: 'per_day'; preDays: number; testDays: number } | { kind: 'unknown_lengths' };

/**
 * The change score's scale for KPI `kpi` (kpi-catalogue.ts `windowTotal`) given the window lengths
 * (days, both ends included) of the pre-period and the test period, or null when they are not known.
 */
export function changeScoreScale(kpi: KpiKey, windowDays: { pre: number; test: number } | null | undefined): ChangeScoreScale {
  if (!KPI_CATALOGUE[kpi].windowTotal) return { kind: 'level' };
  if (!windowDays || !(windowDays.pre > 0) || !(windowDays.test > 0)) return { kind: 'unknown_lengths' };
  return { kind: 'per_day', preDays: windowDays.pre, testDays: windowDays.test };
}

/** The compared territories' test-period values y, pre-period values x (null = missing) and treatment indicator. */
interface AdjustmentData {
  y: number[];
  x: (number | null)[];
  tr: (0 | 1)[];
}

/**
 * Every covariate-adjusted analysis of one KPI, with the pre-period KPI `pre` (one per unit, null =
 * undefined) as covariate: CUPED (pooled θ, Welch on adjusted values; territories without a pre-period
 * value dropped), Lin's regression adjustment (HC2, n − k df; missing pre-period mean-imputed with an
 * indicator), randomization inference on the CUPED-adjusted values (missing pre-period: the territory
 * enters unadjusted, i.e. X mean-imputed; yields its test), and the per-territory change score (Welch;
 * a window total compared as per-day rates, `scale`). `values` are the test-period values per unit in the KPI's unit, null = undefined. Never throws on
 * degenerate data: each block carries its status.
 * Sources: Deng et al. (2013); Lin (2013); Imbens & Rubin (2015) ch. 5; Welch (1947).
 */
export function* covariateAdjustedMethods(
  values: readonly (number | null)[],
  pre: readonly (number | null)[],
  arms: ComparedArms,
  setup: RandomizationSetup,
  alpha: number,
  scale: ChangeScoreScale = { kind: 'level' },
): RandomizationRuns<CovariateAdjustedMethods> {
  const data: AdjustmentData = {
    y: arms.idx.map((i) => values[i] as number),
    x: arms.idx.map((i) => pre[i]),
    tr: arms.idx.map((i) => (arms.inT(i) ? 1 : 0) as 0 | 1),
  };
  const prePeriod = prePeriodHandling(data.x.filter((v) => v === null).length);
  const cp = cuped(data.y, data.x, data.tr, { alpha });
  const regression = linEstimate(data, alpha);
  const cupedRi = yield* cupedRandomization(cp, values, pre, arms, setup, alpha);
  return {
    prePeriod,
    cuped: cupedEstimate(cp),
    regression,
    randomizationCuped: cupedRi.estimate,
    cupedTest: cupedRi.test,
    changeScore: changeScoreEstimate(values, pre, arms, alpha, scale),
  };
}

/** How the compared territories without a pre-period value were handled by each method. */
function prePeriodHandling(nMissing: number): NonNullable<KpiResult['pre_period']> {
  return {
    n_missing: nMissing,
    handling:
      nMissing === 0
        ? 'every compared territory has a pre-period value'
        : `${nMissing} territories without a pre-period value: dropped by CUPED and the change score; mean-imputed with a missingness indicator in the regression adjustment (an indicator column the territories cannot identify is left out, and the regression's note says so); entered unadjusted in the CUPED randomization test (never filled with 0)`,
  };
}

/** CUPED's block: Welch on the adjusted values with the pooled θ and the variance reduction 1 − corr² (Deng et al. 2013). */
function cupedEstimate(cp: CupedResult): NonNullable<KpiResult['methods']['cuped']> {
  return {
    method: 'cuped_pooled_theta_welch',
    status: cp.status === 'ok' ? 'ok' : cp.status === 'zero_variance' ? 'zero_variance' : 'insufficient_data',
    estimate: cp.effect_adjusted,
    ci_low: cp.adjusted_welch.ci_low,
    ci_high: cp.adjusted_welch.ci_high,
    se: cp.se_adjusted,
    df: cp.adjusted_welch.df,
    p_value: cp.adjusted_welch.p_two_sided,
    note: cp.status === 'constant_covariate' ? 'the pre-period KPI is constant or missing, so CUPED cannot adjust' : null,
    theta: cp.theta,
    variance_reduction: cp.variance_ratio_pooled !== null ? 1 - cp.variance_ratio_pooled : null,
  };
}

/** Lin's (2013) interacted OLS with HC2 errors and n − k df; missing pre-period values mean-imputed with an indicator. */
function linEstimate(data: AdjustmentData, alpha: number): MethodEstimate {
  const lin = linRegressionAdjustment(data.y, data.x, data.tr, { alpha, missingX: 'mean_impute' });
  return {
    method: 'lin_interacted_ols_hc2',
    status: lin.status,
    estimate: lin.estimate,
    ci_low: lin.ci_low,
    ci_high: lin.ci_high,
    se: lin.se,
    df: lin.df,
    p_value: lin.p_value,
    note: linNote(lin),
  };
}

/** The regression block's note: its columns and df, or why it has no estimate or SE, and what was done to the design. */
function linNote(lin: LinAdjustmentResult): string {
  const head = lin.status === 'ok' ? `adjusts for the pre-period KPI alone: ${lin.k} regression columns, df = n − k = ${lin.df}` : (lin.reason ?? 'the regression could not be computed');
  return lin.note ? `${head}; ${lin.note}` : head;
}

/**
 * Randomization inference adjusted for the pre-period KPI (the block `randomization_cuped`): the
 * statistic is Lin's (2013) interacted adjustment (arm-specific slopes on the pre-period KPI centred
 * at its pooled mean), RE-ESTIMATED for every re-drawn assignment (statistic 'lin_adjusted',
 * randomization-statistic.ts), CI by test inversion. Issue 16: pooled-θ CUPED was biased when the
 * lift is proportional to territory size (−31% of the effect at +10% on a heavy-tailed panel); the
 * arm-specific slopes remove that bias, and the test stays exact under the sharp null because the
 * adjustment is recomputed from the fixed outcomes for each assignment. The pooled θ is still used
 * for the degenerate-case check (an exact fit) and reported in the `cuped` block.
 */
function* cupedRandomization(
  cp: CupedResult,
  values: readonly (number | null)[],
  pre: readonly (number | null)[],
  arms: ComparedArms,
  setup: RandomizationSetup,
  alpha: number,
): RandomizationRuns<{ estimate: CovariateAdjustedMethods['randomizationCuped']; test: RandomizationTestInput | null }> {
  const method = 'randomization inference adjusted for the pre-period KPI (Lin, re-estimated per assignment)';
  if (cp.status === 'zero_variance') {
    // The pre-period KPI explains the KPI exactly (e.g. a fixed total split across the two periods):
    // the adjusted values are constant within each arm, so a test on them is degenerate (p = 1 with a
    // zero-width CI would look precise). Pitfall P5: say so instead of reporting a number.
    const note = 'the CUPED-adjusted KPI does not vary within the arms (the pre-period KPI predicts it exactly), so the adjusted test is degenerate';
    return { estimate: { ...emptyEstimate(method, note), status: 'zero_variance', min_attainable_p: null }, test: null };
  }
  if (cp.theta === null || cp.mean_x === null) {
    return { estimate: { ...emptyEstimate(method, 'no usable pre-period KPI (missing or constant)'), min_attainable_p: null }, test: null };
  }
  const compared = values.map((v, i) => (arms.compared[i] ? v : null));
  const covariate = pre.map((v, i) => (arms.compared[i] ? v : null));
  const test: RandomizationTestInput = { ...randomizationInput(setup, compared, ':cuped'), statistic: 'lin_adjusted', covariate };
  const riAdj: RandomizationTestResult = yield { ...test, ci: { alpha } };
  return {
    estimate: randomizationEstimate(
      `${randomizationMethodName(riAdj)} of Lin's interacted adjustment for the pre-period KPI (arm-specific slopes), re-estimated for every re-drawn assignment; CI by test inversion`,
      riAdj,
    ),
    test,
  };
}

/**
 * Welch on the per-territory change, territories without a pre-period value dropped: test − pre-period
 * value for per-deal KPIs; for a window total (`scale.kind === 'per_day'`) the per-day rates
 * test / test days − pre-period / pre-period days, so a 12-month pre-period and a 6-month test period
 * compare like with like. A window total without the window lengths gets no change score.
 */
function changeScoreEstimate(
  values: readonly (number | null)[],
  pre: readonly (number | null)[],
  arms: ComparedArms,
  alpha: number,
  scale: ChangeScoreScale,
): MethodEstimate {
  if (scale.kind === 'unknown_lengths') {
    const note = 'the KPI is a total over its window and the window lengths are not known, so the two periods cannot be put on a per-day scale';
    return emptyEstimate('change_score_welch', note, 'not_applicable');
  }
  const perDay = scale.kind === 'per_day';
  const rate = (v: number, days: number) => (perDay ? v / days : v);
  const dT: number[] = [];
  const dC: number[] = [];
  for (const i of arms.idx) {
    if (pre[i] === null) continue;
    const d = perDay ? rate(values[i] as number, scale.testDays) - rate(pre[i] as number, scale.preDays) : (values[i] as number) - (pre[i] as number);
    (arms.inT(i) ? dT : dC).push(d);
  }
  if (!perDay) return welchEstimate('change_score_welch (test − pre-period per territory)', welchTTest(dT, dC, { alpha }), null);
  const note = `per-day rates: test-period value ÷ ${scale.testDays} days − pre-period value ÷ ${scale.preDays} days per territory, in the KPI's unit per day of window`;
  return welchEstimate('change_score_welch (per-day rate: test ÷ test days − pre-period ÷ pre-period days, per territory)', welchTTest(dT, dC, { alpha }), note);
}
