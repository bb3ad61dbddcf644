import { PrimaryMethodKey } from '../../stats/primary-method';
import { adjustPValues } from '../../stats/multiple-testing';
import { NonInferiorityMargin, nonInferiorityTest } from '../../stats/non-inferiority';
import { randomizationTest, randomizationTestAsync, RandomizationTestResult } from '../../stats/randomization-inference';
import { liftInterval, RELATIVE_LIFT_DEFAULT_INTERVAL, relativeLift, RelativeLiftResult } from '../../stats/relative-lift';
import { TTestResult, welchTTest } from '../../stats/welch';
import { holmConsistentLevels } from '../../stats/holm-intervals';
import { KPI_CATALOGUE, KpiKey } from '../../kpis/kpi-catalogue';
import { KpiResult, KpiStatus } from '../report.types';
import {
  AnalysisUnits,
  ComparedArms,
  ComparisonOptions,
  KpiExtras,
  RandomizationRuns,
  RandomizationSetup,
  randomizationInput,
  randomizationSeed,
  randomizationSetup,
  splitArms,
} from './comparison-inputs';
import { changeScoreScale, covariateAdjustedMethods } from './covariate-adjusted-methods';
import { designAnalyses } from './design-analyses';
import { didPanelEstimate } from './did-panel';
import { matchedPairsMethods } from './matched-pairs';
import { DESIGN_FALLBACK_NOTE, summariseArm } from './method-estimates';
import { primaryEstimate, primaryIntervals, undecidedPrimary } from './primary-estimate';
import { finalise } from './verdict';

/** Monte Carlo draws of the design-analyses robustness rows (randomization-t; the WCR of the panel). */
export const DESIGN_ANALYSES_MAX_DRAWS = 1999;

/**
 * Compares one KPI between a treatment arm and control over territory values (units of the KPI):
 *  - Welch t-test with its CI; relative lift with delta-method and Fieller CIs;
 *  - randomization inference re-drawing from the pilot's design (the actual design when
 *    `units.design` is given: strata, pairs, forced units, acceptance rule);
 *  - with a pre-period KPI (`extras.pre`): CUPED (pooled θ, Welch on adjusted values; territories without a
 *    pre-period value dropped), Lin's regression adjustment (HC2, n − k df; missing pre-period mean-imputed
 *    with an indicator), randomization inference on the CUPED-adjusted values (missing pre-period: the
 *    territory enters unadjusted, i.e. X mean-imputed), and the per-territory change score (Welch; window
 *    totals as per-day rates over `extras.windowDays`) (covariate-adjusted-methods.ts);
 *  - with a weekly panel (`extras.weekly`): difference-in-differences OLS with CR2 errors and
 *    Bell–McCaffrey df, per territory-week (did-panel.ts);
 *  - matched-pairs designs: paired t and Wilcoxon signed-rank over the pairs (matched-pairs.ts);
 *  - with a known design type: the design's own analyses and the panel's few-cluster methods (design-analyses.ts);
 *  - guardrails with a margin: the one-sided non-inferiority test.
 * `primary` holds the numbers of `opts.primaryMethod`, which decide (primary-estimate.ts). Territories
 * whose value is undefined (null) are left out of the means but keep their place in the design.
 * Degenerate data give an explicit status and no significance verdict; no NaN or Infinity is ever returned.
 * @param values one value per unit, aligned with `units.arms`
 * Sources: Welch (1947); Fieller (1954); Imbens & Rubin (2015) ch. 5; Deng et al. (2013); Lin (2013);
 *   Bell & McCaffrey (2002); Wilcoxon (1945).
 */
export function compareKpi(
  kpi: KpiKey,
  role: KpiResult['role'],
  values: (number | null)[],
  units: AnalysisUnits,
  opts: ComparisonOptions,
  extras: KpiExtras = {},
): KpiResult {
  const run = compareCore(kpi, role, values, units, opts, extras);
  let step = run.next();
  while (!step.done) step = run.next(randomizationTest(step.value));
  return step.value;
}

/**
 * The same comparison as `compareKpi`, running every randomization test with
 * `randomizationTestAsync`, which yields to the event loop so a queue worker keeps its lock during
 * long enumerations or Monte Carlo runs. Same inputs ⇒ the identical result.
 */
export async function compareKpiAsync(
  kpi: KpiKey,
  role: KpiResult['role'],
  values: (number | null)[],
  units: AnalysisUnits,
  opts: ComparisonOptions,
  extras: KpiExtras = {},
): Promise<KpiResult> {
  const run = compareCore(kpi, role, values, units, opts, extras);
  let step = run.next();
  while (!step.done) step = run.next(await randomizationTestAsync(step.value));
  return step.value;
}

/** The analyses of one KPI that the result lists beside the primary method. */
interface KpiAnalyses {
  welch: TTestResult;
  lift: RelativeLiftResult;
  ri: RandomizationTestResult;
  methods: KpiResult['methods'];
  prePeriod: KpiResult['pre_period'];
  nonInferiority: KpiResult['non_inferiority'];
  designAnalyses: KpiResult['design_analyses'];
  /** the primary method's numbers, which decide, and its CI at the extra levels asked for */
  primary: KpiResult['primary'];
  primaryIntervals: NonNullable<KpiResult['primary_intervals']>;
}

/**
 * The comparison: runs each analysis the inputs allow, picks the primary method's numbers and
 * assembles the result; yields each randomization test it needs and receives its result.
 */
function* compareCore(
  kpi: KpiKey,
  role: KpiResult['role'],
  values: (number | null)[],
  units: AnalysisUnits,
  opts: ComparisonOptions,
  extras: KpiExtras,
): RandomizationRuns<KpiResult> {
  const alpha = opts.alpha;
  const arms = splitArms(values, units);
  const setup = randomizationSetup(kpi, units, opts);
  const primaryKey: PrimaryMethodKey = opts.primaryMethod ?? 'randomization_inference';
  const welch = welchTTest(arms.t, arms.c, { alpha });
  const lift = relativeLift(arms.t, arms.c, { alpha });
  const ri: RandomizationTestResult = yield randomizationInput(setup, values, '', primaryKey === 'randomization_inference' ? alpha : undefined);
  const adjusted = extras.pre ? yield* covariateAdjustedMethods(values, extras.pre, arms, setup, alpha, changeScoreScale(kpi, extras.windowDays)) : null;
  const did = extras.weekly ? didPanelEstimate(extras.weekly, arms, extras.weeklyUnit, alpha) : null;
  const pairs = units.designType === 'matched_pairs' ? matchedPairsMethods(values, units.strata, arms, alpha) : null;
  // the design's own analyses, the panel's few-cluster methods, diagnostics, fragile flag (issue 14)
  const design = units.designType ? designAnalysesOf(units.designType, values, units, opts, extras, setup) : null;
  const higherIsBetter = KPI_CATALOGUE[kpi].higherIsBetter;
  const ni = role === 'guardrail' && extras.margin ? nonInferiorityOf(arms, extras.margin, higherIsBetter, alpha) : null;
  const primary = yield* primaryEstimate(primaryKey, { values, ri, adjusted, welch, setup, alpha });
  const intervals = role !== 'primary' ? yield* primaryIntervals(primary, opts.intervalAlphas ?? []) : [];
  const analyses: KpiAnalyses = {
    welch,
    lift,
    ri,
    methods: {
      cuped: adjusted?.cuped ?? null,
      regression_adjustment: adjusted?.regression ?? null,
      randomization_cuped: adjusted?.randomizationCuped ?? null,
      change_score: adjusted?.changeScore ?? null,
      did_panel: did,
      paired_t: pairs?.pairedT ?? null,
      wilcoxon_signed_rank: pairs?.wilcoxon ?? null,
    },
    prePeriod: adjusted?.prePeriod ?? null,
    nonInferiority: ni,
    designAnalyses: design,
    primary: primary.estimate,
    primaryIntervals: intervals,
  };
  return finalise(assembleResult(kpi, role, units, arms, alpha, analyses), alpha);
}

/**
 * The design's own analyses for `designType` (design-analyses.ts): robustness rows with at most
 * DESIGN_ANALYSES_MAX_DRAWS Monte Carlo draws, on the KPI's `:design` seed stream.
 */
function designAnalysesOf(
  designType: string,
  values: (number | null)[],
  units: AnalysisUnits,
  opts: ComparisonOptions,
  extras: KpiExtras,
  setup: RandomizationSetup,
): NonNullable<KpiResult['design_analyses']> {
  return designAnalyses({
    designType,
    values,
    arms: units.arms,
    strata: units.strata,
    treatmentArm: units.treatmentArm,
    controlArm: units.controlArm,
    design: units.design,
    covariates: extras.covariates ?? null,
    covariateNames: extras.covariateNames ?? null,
    weekly: extras.weekly ?? null,
    weeklyUnit: extras.weeklyUnit,
    pre: extras.pre ?? null,
    codes: extras.codes,
    alpha: opts.alpha,
    seed: randomizationSeed(opts.seed, `${setup.seedKey}:design`),
    draws: Math.min(opts.draws, DESIGN_ANALYSES_MAX_DRAWS),
    maxExact: opts.maxExact,
    fewClusterMethod: opts.fewClusterMethod,
    fewClusterReason: opts.fewClusterReason,
  });
}

/** A guardrail's one-sided non-inferiority test (Welch-type) within `margin`; the adjusted p is set by adjustSecondary. */
function nonInferiorityOf(arms: ComparedArms, margin: NonInferiorityMargin, higherIsBetter: boolean, alpha: number): NonNullable<KpiResult['non_inferiority']> {
  const ni = nonInferiorityTest(arms.t, arms.c, { ...margin, higherIsBetter, alpha });
  return {
    method: 'non_inferiority_welch',
    margin: ni.margin,
    margin_type: ni.margin_type,
    p_value: ni.p_value,
    adjusted_p: null,
    lower_bound: ni.lower_bound,
    non_inferior: ni.non_inferior,
    status: ni.status,
  };
}

/** The KPI's status from the Welch test: each arm needs 2 defined values and some variation. */
function comparisonStatus(welch: TTestResult, label: string, arms: ComparedArms): { status: KpiStatus; reason: string | null } {
  if (welch.status === 'insufficient_data') {
    const reason = `each arm needs at least 2 territories with a defined ${label.toLowerCase()} (treatment ${arms.t.length}, control ${arms.c.length})`;
    return { status: 'insufficient_data', reason };
  }
  if (welch.status === 'zero_variance') {
    return { status: 'zero_variance', reason: 'every territory has the same value within each arm, so the standard error is 0 and the t-test is undefined' };
  }
  return { status: 'ok', reason: null };
}

/** The Welch difference in means with its (1 − α) CI. */
function welchDifference(welch: TTestResult, alpha: number): KpiResult['difference'] {
  return {
    method: 'welch_t',
    estimate: welch.diff,
    ci_low: welch.ci_low,
    ci_high: welch.ci_high,
    conf_level: 1 - alpha,
    se: welch.se,
    t: welch.t,
    df: welch.df,
    p_value: welch.p_two_sided,
  };
}

/**
 * The relative lift with the default interval (RELATIVE_LIFT_DEFAULT_INTERVAL, the one that covered in
 * the calibration bench) as ci_low/ci_high, named in `method`; the delta-method, Fieller and log-ratio
 * intervals beside it. A missing default interval (e.g. Fieller unbounded) gives null bounds and the reason in `note`.
 */
function relativeLiftBlock(lift: RelativeLiftResult): KpiResult['relative_lift'] {
  const shown = liftInterval(lift, RELATIVE_LIFT_DEFAULT_INTERVAL);
  return {
    method: RELATIVE_LIFT_DEFAULT_INTERVAL,
    status: lift.status,
    estimate: lift.lift,
    ci_low: shown.ci_low,
    ci_high: shown.ci_high,
    delta: { ci_low: lift.delta.ci_low, ci_high: lift.delta.ci_high },
    fieller: { bounded: lift.fieller.bounded, shape: lift.fieller.shape, ci_low: lift.fieller.ci_low, ci_high: lift.fieller.ci_high },
    log_ratio: { ci_low: lift.log_ratio.ci_low, ci_high: lift.log_ratio.ci_high },
    note: shown.reason,
  };
}

/** The unadjusted randomization test: how it ran, its p and smallest attainable p, and its CI when computed. */
function randomizationSummary(ri: RandomizationTestResult): KpiResult['randomization'] {
  return {
    method: ri.status === 'ok' ? ri.method : null,
    statistic: 'difference_in_means',
    p_value: ri.status === 'ok' ? ri.p_two_sided : null,
    n_assignments: ri.n_assignments,
    draws: ri.method === 'monte_carlo' ? ri.draws : null,
    min_attainable_p: ri.status === 'ok' ? ri.min_attainable_p : null,
    ci_low: ri.ci?.low ?? null,
    ci_high: ri.ci?.high ?? null,
    design: ri.design ? `${ri.design.type}${ri.design.acceptance ? `; ${ri.design.acceptance}` : ''}` : null,
    note: ri.design ? null : DESIGN_FALLBACK_NOTE,
  };
}

/** The KPI's result before multiplicity: labels, status, arm summaries and every analysis; not yet finalised. */
function assembleResult(kpi: KpiKey, role: KpiResult['role'], units: AnalysisUnits, arms: ComparedArms, alpha: number, a: KpiAnalyses): KpiResult {
  const meta = KPI_CATALOGUE[kpi];
  const { status, reason } = comparisonStatus(a.welch, meta.label, arms);
  // A KPI that cannot be judged carries no decision p anywhere (issue 16).
  const primary = status === 'ok' ? a.primary : undecidedPrimary(a.primary, status, reason);
  return {
    kpi,
    label: meta.label,
    unit: meta.unit,
    role,
    higher_is_better: meta.higherIsBetter,
    treatment_arm: units.treatmentArm,
    control_arm: units.controlArm,
    status,
    status_reason: reason,
    control: summariseArm(units.controlArm, arms.cValues),
    treatment: summariseArm(units.treatmentArm, arms.tValues),
    difference: welchDifference(a.welch, alpha),
    relative_lift: relativeLiftBlock(a.lift),
    randomization: randomizationSummary(a.ri),
    pre_period: a.prePeriod,
    methods: a.methods,
    non_inferiority: a.nonInferiority,
    design_analyses: a.designAnalyses,
    primary,
    primary_intervals: status === 'ok' && a.primaryIntervals.length ? a.primaryIntervals : null,
    adjusted: null,
    decision_p: role === 'primary' ? primary.p_value : null,
    significant: null,
    verdict: '',
  };
}

/**
 * Multiplicity, in input order (Holm by default, or Benjamini–Hochberg):
 *  - the secondary and guardrail KPIs (over every treatment arm) form one family: the primary method's
 *    p, the randomization p and the Welch p are each adjusted within it;
 *  - the primary KPI is pre-registered and unadjusted with one treatment arm; with several treatment
 *    arms, its comparisons against control are adjusted among themselves;
 *  - guardrails with a non-inferiority margin: their one-sided p-values are adjusted among themselves.
 * Only results with status 'ok' and a non-null p enter a family. Then sets each result's decision p,
 * significance and verdict.
 * Sources: Holm (1979); Benjamini & Hochberg (1995); statsmodels `multipletests`.
 */
export function adjustSecondary(results: KpiResult[], alpha: number, method: 'holm' | 'bh' = 'holm'): KpiResult[] {
  const adjustWithin = (family: KpiResult[], pick: (r: KpiResult) => number | null) => {
    const idx = family.map((r, i) => (r.status !== 'ok' || pick(r) === null ? -1 : i)).filter((i) => i >= 0);
    const adjusted = adjustPValues(
      idx.map((i) => pick(family[i])!),
      method,
    );
    const out = new Map<KpiResult, number>();
    idx.forEach((i, k) => out.set(family[i], adjusted[k]));
    return out;
  };
  const primaries = results.filter((r) => r.role === 'primary');
  const family = results.filter((r) => r.role !== 'primary');
  const multiArm = primaries.length > 1;
  const pPrimary = multiArm ? adjustWithin(primaries, (r) => r.primary.p_value) : new Map<KpiResult, number>();
  const pRiPrimary = multiArm ? adjustWithin(primaries, (r) => r.randomization.p_value) : new Map<KpiResult, number>();
  const pWelchPrimary = multiArm ? adjustWithin(primaries, (r) => r.difference.p_value) : new Map<KpiResult, number>();
  const p = adjustWithin(family, (r) => r.primary.p_value);
  // Holm-consistent intervals of the primary method (holm-intervals.ts), from its CIs at the candidate levels.
  const inFamily = family.filter((r) => r.status === 'ok' && r.primary.p_value !== null);
  const levels = method === 'holm' ? holmConsistentLevels(inFamily.map((r) => r.primary.p_value!), alpha) : [];
  const intervalOf = new Map<KpiResult, NonNullable<NonNullable<KpiResult['adjusted']>['interval']>>();
  levels.forEach((lv, k) => {
    const r = inFamily[k];
    const at = r.primary_intervals?.find((x) => Math.abs(x.alpha - lv.interval_alpha) <= 1e-12 * lv.interval_alpha);
    if (!at) return;
    intervalOf.set(r, {
      method: 'holm_consistent',
      conf_level: 1 - lv.interval_alpha,
      ci_low: at.ci_low,
      ci_high: at.ci_high,
      note: `the primary method's ${(100 * (1 - lv.interval_alpha)).toFixed(2)}% interval (level α/${Math.round(alpha / lv.interval_alpha)} of Holm's step ${lv.rejected ? lv.rank : 'where it stopped'}): it excludes 0 exactly when the Holm-adjusted p is below α`,
    });
  });
  const ri = adjustWithin(family, (r) => r.randomization.p_value);
  const welch = adjustWithin(family, (r) => r.difference.p_value);
  const niFamily = results.filter((r) => r.non_inferiority && r.non_inferiority.p_value !== null);
  const niAdj = adjustPValues(
    niFamily.map((r) => r.non_inferiority!.p_value!),
    method,
  );
  const ni = new Map(niFamily.map((r, k) => [r, niAdj[k]]));
  return results.map((r) => {
    const withNi: KpiResult = r.non_inferiority
      ? {
          ...r,
          non_inferiority: {
            ...r.non_inferiority,
            adjusted_p: ni.get(r) ?? null,
            non_inferior: ni.has(r) ? ni.get(r)! < alpha : r.non_inferiority.non_inferior,
          },
        }
      : r;
    if (r.role === 'primary') {
      if (!multiArm) return finalise(withNi, alpha);
      return finalise(
        {
          ...withNi,
          adjusted: { method, welch_p: pWelchPrimary.get(r) ?? null, randomization_p: pRiPrimary.get(r) ?? null, primary_p: pPrimary.get(r) ?? null },
          decision_p: pPrimary.get(r) ?? null,
        },
        alpha,
      );
    }
    return finalise(
      {
        ...withNi,
        adjusted: { method, welch_p: welch.get(r) ?? null, randomization_p: ri.get(r) ?? null, primary_p: p.get(r) ?? null, interval: intervalOf.get(r) ?? null },
        decision_p: p.get(r) ?? null,
      },
      alpha,
    );
  });
}
