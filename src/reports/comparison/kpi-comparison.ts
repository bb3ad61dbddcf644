import { createHash } from 'node:crypto';
import type { RandomizationDesign } from '../../stats/design/designs';
import { PrimaryMethodKey } from '../../stats/primary-method';
import { cuped, linRegressionAdjustment } from '../../stats/covariate-adjustment';
import { sampleSd, mean } from '../../stats/descriptive';
import { differenceInDifferences } from '../../stats/difference-in-differences';
import { adjustPValues } from '../../stats/multiple-testing';
import { NonInferiorityMargin, nonInferiorityTest } from '../../stats/non-inferiority';
import { pairedTTest, wilcoxonSignedRank } from '../../stats/paired';
import { randomizationTest, randomizationTestAsync, RandomizationTestInput, RandomizationTestResult } from '../../stats/randomization-inference';
import { relativeLift } from '../../stats/relative-lift';
import { welchTTest } from '../../stats/welch';
import { studentTInv } from '../../stats/distributions';
import { holmConsistentLevels } from '../../stats/holm-intervals';
import { KPI_CATALOGUE, KpiKey } from '../../kpis/kpi-catalogue';
import { ArmSummary, KpiResult, KpiStatus, MethodEstimate } from '../report.types';
import { designAnalyses } from './design-analyses';

/** Monte Carlo draws of the design-analyses robustness rows (randomization-t; the WCR of the panel). */
export const DESIGN_ANALYSES_MAX_DRAWS = 1999;

/** The territories of one pilot as the analysis sees them: one entry per assigned territory. */
export interface AnalysisUnits {
  arms: string[];
  /** stratum per territory as stored: region/team, the pair id of a matched-pairs design, or 'all' */
  strata: string[];
  treatmentArm: string;
  controlArm: string;
  /** the actual design to re-draw from (design-aware randomization inference); optional */
  design?: RandomizationDesign;
  /** complete | stratified | matched_pairs | rerandomization (matched pairs add paired analyses) */
  designType?: string;
}

/** Significance level and randomization-inference budget of a comparison. */
export interface ComparisonOptions {
  alpha: number;
  /** enumerate all assignments up to this count, else Monte Carlo */
  maxExact: number;
  /** Monte Carlo draws */
  draws: number;
  /** the pilot's seed; the Monte Carlo stream of each KPI is derived from it */
  seed: number;
  /** the method whose numbers decide (default: randomization inference on the unadjusted KPI) */
  primaryMethod?: PrimaryMethodKey;
  /**
   * secondary/guardrail KPIs: also compute the primary method's CI at these levels α' (the candidates
   * α/j, j = 1..family size, of the Holm-consistent intervals set by adjustSecondary)
   */
  intervalAlphas?: readonly number[];
}

/** Optional inputs beyond the test-period values, aligned with the units. */
export interface KpiExtras {
  /** the KPI over the pre-period per territory (null = undefined there): covariate and change score */
  pre?: readonly (number | null)[] | null;
  /** complete weekly calendars per territory (zeros for empty weeks) of an additive KPI, for DiD */
  weekly?: readonly ({ pre: readonly number[]; test: readonly number[] } | null)[] | null;
  /** what one panel value is, e.g. 'opportunities per territory-week' */
  weeklyUnit?: string;
  /** a guardrail's non-inferiority margin */
  margin?: NonInferiorityMargin | null;
  /** territory codes aligned with the units (diagnostics rows name them) */
  codes?: readonly string[];
  /** the rerandomization's balancing covariates per territory (rows aligned with the units), mean-imputed */
  covariates?: readonly (readonly number[])[] | null;
}

/** A reproducible Monte Carlo seed per pilot seed and KPI (first 48 bits of SHA-256). */
export function randomizationSeed(pilotSeed: number, kpi: string): number {
  return parseInt(createHash('sha256').update(`${pilotSeed}:${kpi}:randomization`).digest('hex').slice(0, 12), 16);
}

function summarise(arm: string, values: (number | null)[]): ArmSummary {
  const defined = values.filter((v): v is number => v !== null);
  return {
    arm,
    n_territories: defined.length,
    n_missing: values.length - defined.length,
    mean: mean(defined),
    sd: sampleSd(defined),
  };
}

function emptyEstimate(method: string, note: string, status: MethodEstimate['status'] = 'insufficient_data'): MethodEstimate {
  return { method, status, estimate: null, ci_low: null, ci_high: null, se: null, df: null, p_value: null, note };
}

function riEstimate(method: string, ri: RandomizationTestResult): MethodEstimate & { min_attainable_p: number | null } {
  if (ri.status !== 'ok') return { ...emptyEstimate(method, 'an arm has no territory with a defined value'), min_attainable_p: null };
  const ci = ri.ci ?? null;
  let note = ci?.note ?? null;
  if (ci && ci.status === 'unbounded') note = 'CI unbounded: no constant effect is rejected because the smallest attainable p is at least α';
  return {
    method,
    status: 'ok',
    estimate: ri.observed,
    ci_low: ci?.low ?? null,
    ci_high: ci?.high ?? null,
    se: null,
    df: null,
    p_value: ri.p_two_sided,
    note,
    min_attainable_p: ri.min_attainable_p,
  };
}

const RI_NAME = (ri: RandomizationTestResult) =>
  `randomization inference (${ri.method === 'exact' ? 'exact enumeration' : `${ri.draws} Monte Carlo draws`}${ri.design ? `, ${ri.design.type} design re-drawn` : ''})`;

/**
 * Compares one KPI between a treatment arm and control over territory values (units of the KPI):
 *  - Welch t-test with its CI; relative lift with delta-method and Fieller CIs;
 *  - randomization inference re-drawing from the pilot's design (the actual design when
 *    `units.design` is given: strata, pairs, forced units, acceptance rule);
 *  - with a pre-period KPI (`extras.pre`): CUPED (pooled θ, Welch on adjusted values; territories without a
 *    pre-period value dropped), Lin's regression adjustment (HC2, n − k df; missing pre-period mean-imputed
 *    with an indicator), randomization inference on the CUPED-adjusted values (missing pre-period: the
 *    territory enters unadjusted, i.e. X mean-imputed), and the per-territory change score (Welch);
 *  - with a weekly panel (`extras.weekly`): difference-in-differences OLS with CR2 errors and
 *    Bell–McCaffrey df, per territory-week;
 *  - matched-pairs designs: paired t and Wilcoxon signed-rank over the pairs;
 *  - guardrails with a margin: the one-sided non-inferiority test.
 * `primary` holds the numbers of `opts.primaryMethod`, which decide. Territories whose value is
 * undefined (null) are left out of the means but keep their place in the design. Degenerate data
 * give an explicit status and no significance verdict; no NaN or Infinity is ever returned.
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

/** The comparison; yields each randomization test it needs and receives its result. */
function* compareCore(
  kpi: KpiKey,
  role: KpiResult['role'],
  values: (number | null)[],
  units: AnalysisUnits,
  opts: ComparisonOptions,
  extras: KpiExtras,
): Generator<RandomizationTestInput, KpiResult, RandomizationTestResult> {
  const meta = KPI_CATALOGUE[kpi];
  const inT = (i: number) => units.arms[i] === units.treatmentArm;
  const inC = (i: number) => units.arms[i] === units.controlArm;
  const tValues = values.filter((_, i) => inT(i));
  const cValues = values.filter((_, i) => inC(i));
  const t = tValues.filter((v): v is number => v !== null);
  const c = cValues.filter((v): v is number => v !== null);
  const alpha = opts.alpha;
  const welch = welchTTest(t, c, { alpha });
  const lift = relativeLift(t, c, { alpha });
  const primaryKey: PrimaryMethodKey = opts.primaryMethod ?? 'randomization_inference';
  const armsInDesign = new Set(units.arms);
  // The first treatment arm keeps the historical stream; other arms get their own.
  const seedKey = armsInDesign.size > 2 ? `${kpi}:${units.treatmentArm}` : kpi;
  const riBase = {
    arms: units.arms,
    strata: units.strata,
    treatmentArm: units.treatmentArm,
    controlArm: units.controlArm,
    maxExact: opts.maxExact,
    draws: opts.draws,
    ...(units.design ? { design: units.design } : {}),
  };
  const ri: RandomizationTestResult = yield {
    ...riBase,
    values,
    seed: randomizationSeed(opts.seed, seedKey),
    ...(primaryKey === 'randomization_inference' ? { ci: { alpha } } : {}),
  };

  // ---- covariate adjustment with the pre-period KPI
  const pre = extras.pre ?? null;
  const compared = values.map((_, i) => (inT(i) || inC(i)) && values[i] !== null);
  const idx = compared.map((ok, i) => (ok ? i : -1)).filter((i) => i >= 0);
  let cupedBlock: KpiResult['methods']['cuped'] = null;
  let linBlock: MethodEstimate | null = null;
  let riCupedBlock: KpiResult['methods']['randomization_cuped'] = null;
  let riCupedValues: (number | null)[] | null = null;
  let changeBlock: MethodEstimate | null = null;
  let prePeriod: KpiResult['pre_period'] = null;
  if (pre) {
    const y = idx.map((i) => values[i] as number);
    const x = idx.map((i) => pre[i]);
    const tr = idx.map((i) => (inT(i) ? 1 : 0) as 0 | 1);
    const nMissing = x.filter((v) => v === null).length;
    prePeriod = {
      n_missing: nMissing,
      handling:
        nMissing === 0
          ? 'every compared territory has a pre-period value'
          : `${nMissing} territories without a pre-period value: dropped by CUPED and the change score; mean-imputed with a missingness indicator in the regression adjustment; entered unadjusted in the CUPED randomization test (never filled with 0)`,
    };
    const cp = cuped(y, x, tr, { alpha });
    cupedBlock = {
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
    const lin = linRegressionAdjustment(y, x, tr, { alpha, missingX: 'mean_impute' });
    linBlock = {
      method: 'lin_interacted_ols_hc2',
      status: lin.status,
      estimate: lin.estimate,
      ci_low: lin.ci_low,
      ci_high: lin.ci_high,
      se: lin.se,
      df: lin.df,
      p_value: lin.p_value,
      note: lin.status === 'ok' ? `${lin.k} regression columns, df = n − k = ${lin.df}` : 'too few territories per arm for the regression',
    };
    // Randomization inference on the CUPED-adjusted values (θ pooled over the compared arms; under the
    // sharp null the adjusted values do not depend on the assignment).
    if (cp.status === 'zero_variance') {
      // The pre-period KPI explains the KPI exactly (e.g. a fixed total split across the two periods):
      // the adjusted values are constant within each arm, so a test on them is degenerate (p = 1 with a
      // zero-width CI would look precise). Pitfall P5: say so instead of reporting a number.
      riCupedBlock = {
        ...emptyEstimate(
          'randomization inference on the CUPED-adjusted KPI',
          'the CUPED-adjusted KPI does not vary within the arms (the pre-period KPI predicts it exactly), so the adjusted test is degenerate',
        ),
        status: 'zero_variance',
        min_attainable_p: null,
      };
    } else if (cp.theta !== null && cp.mean_x !== null) {
      const adjusted = values.map((v, i) => {
        if (!compared[i] || v === null) return null;
        const xi = pre[i];
        return xi === null ? v : v - cp.theta! * (xi - cp.mean_x!);
      });
      const riAdj: RandomizationTestResult = yield {
        ...riBase,
        values: adjusted,
        seed: randomizationSeed(opts.seed, `${seedKey}:cuped`),
        ci: { alpha },
      };
      riCupedBlock = riEstimate(`${RI_NAME(riAdj)} on the CUPED-adjusted KPI; CI by test inversion`, riAdj);
      riCupedValues = adjusted;
    } else {
      riCupedBlock = { ...emptyEstimate('randomization inference on the CUPED-adjusted KPI', 'no usable pre-period KPI (missing or constant)'), min_attainable_p: null };
    }
    const dT: number[] = [];
    const dC: number[] = [];
    for (const i of idx) if (pre[i] !== null) (inT(i) ? dT : dC).push((values[i] as number) - (pre[i] as number));
    const ch = welchTTest(dT, dC, { alpha });
    changeBlock = {
      method: 'change_score_welch (test − pre-period per territory)',
      status: ch.status,
      estimate: ch.diff,
      ci_low: ch.ci_low,
      ci_high: ch.ci_high,
      se: ch.se,
      df: ch.df,
      p_value: ch.p_two_sided,
      note: null,
    };
  }

  // ---- difference-in-differences on the weekly panel
  let didBlock: KpiResult['methods']['did_panel'] = null;
  const weekly = extras.weekly ?? null;
  if (weekly) {
    const territory: string[] = [];
    const period: string[] = [];
    const treated: (0 | 1)[] = [];
    const post: (0 | 1)[] = [];
    const y: number[] = [];
    let weeksPre = 0;
    let weeksTest = 0;
    weekly.forEach((w, i) => {
      if (!w || !(inT(i) || inC(i))) return;
      weeksPre = Math.max(weeksPre, w.pre.length);
      weeksTest = Math.max(weeksTest, w.test.length);
      const push = (vals: readonly number[], p: 0 | 1) =>
        vals.forEach((v, k) => {
          territory.push(`u${i}`);
          period.push(`${p}:${k}`);
          treated.push(inT(i) ? 1 : 0);
          post.push(p);
          y.push(v);
        });
      push(w.pre, 0);
      push(w.test, 1);
    });
    const unit = extras.weeklyUnit ?? 'per territory-week';
    const d = weeksPre > 0 && weeksTest > 0 ? differenceInDifferences({ territory, period, treated, post, y }, { alpha }) : null;
    didBlock = {
      method: 'did_ols_cr2_bell_mccaffrey (territory × ISO-week panel, empty weeks = 0)',
      status: d ? d.status : 'insufficient_data',
      estimate: d ? d.ols.coef_did ?? d.did_2x2 : null,
      ci_low: d?.cr2.ci_low ?? null,
      ci_high: d?.cr2.ci_high ?? null,
      se: d?.cr2.se ?? null,
      df: d?.cr2.df ?? null,
      p_value: d?.cr2.p_value ?? null,
      note: d ? `${d.n_clusters} territories, ${d.n_obs} territory-weeks` : 'the panel needs at least one pre-period and one test week',
      unit,
      weeks_pre: weeksPre,
      weeks_test: weeksTest,
    };
  }

  // ---- matched pairs
  let pairedBlock: MethodEstimate | null = null;
  let wilcoxonBlock: KpiResult['methods']['wilcoxon_signed_rank'] = null;
  if (units.designType === 'matched_pairs') {
    const byPair = new Map<string, { t: number | null; c: number | null; nT: number; nC: number }>();
    values.forEach((v, i) => {
      if (!(inT(i) || inC(i))) return;
      const e = byPair.get(units.strata[i]) ?? { t: null, c: null, nT: 0, nC: 0 };
      if (inT(i)) {
        e.t = v;
        e.nT++;
      } else {
        e.c = v;
        e.nC++;
      }
      byPair.set(units.strata[i], e);
    });
    const pairs = [...byPair.values()].filter((e) => e.nT === 1 && e.nC === 1 && e.t !== null && e.c !== null);
    const pt = pairedTTest(
      pairs.map((p) => p.t!),
      pairs.map((p) => p.c!),
      { alpha },
    );
    pairedBlock = {
      method: 'paired_t (pair differences, n − 1 df)',
      status: pt.status,
      estimate: pt.mean_diff,
      ci_low: pt.ci_low,
      ci_high: pt.ci_high,
      se: pt.se,
      df: pt.df,
      p_value: pt.p_two_sided,
      note: `${pairs.length} complete pairs`,
    };
    const wx = wilcoxonSignedRank(
      pairs.map((p) => p.t!),
      pairs.map((p) => p.c!),
    );
    wilcoxonBlock = {
      method: 'wilcoxon_signed_rank (zero differences dropped, midranks)',
      status: wx.status,
      estimate: null,
      ci_low: null,
      ci_high: null,
      se: null,
      df: null,
      p_value: wx.p_value,
      note: `W+ = ${wx.w_plus} over ${wx.n_nonzero} non-zero pair differences; a test of location without an interval`,
      p_method: wx.p_method,
    };
  }

  // ---- the design's own analyses, the panel's few-cluster methods, diagnostics, fragile flag (issue 14)
  const designBlock = units.designType
    ? designAnalyses({
        designType: units.designType,
        values,
        arms: units.arms,
        strata: units.strata,
        treatmentArm: units.treatmentArm,
        controlArm: units.controlArm,
        design: units.design,
        covariates: extras.covariates ?? null,
        weekly: extras.weekly ?? null,
        weeklyUnit: extras.weeklyUnit,
        pre: extras.pre ?? null,
        codes: extras.codes,
        alpha,
        seed: randomizationSeed(opts.seed, `${seedKey}:design`),
        draws: Math.min(opts.draws, DESIGN_ANALYSES_MAX_DRAWS),
        maxExact: opts.maxExact,
      })
    : null;

  // ---- guardrail non-inferiority
  let niBlock: KpiResult['non_inferiority'] = null;
  if (role === 'guardrail' && extras.margin) {
    const ni = nonInferiorityTest(t, c, { ...extras.margin, higherIsBetter: meta.higherIsBetter, alpha });
    niBlock = {
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

  let status: KpiStatus = 'ok';
  let reason: string | null = null;
  if (welch.status === 'insufficient_data') {
    status = 'insufficient_data';
    reason = `each arm needs at least 2 territories with a defined ${meta.label.toLowerCase()} (treatment ${t.length}, control ${c.length})`;
  } else if (welch.status === 'zero_variance') {
    status = 'zero_variance';
    reason = 'every territory has the same value within each arm, so the standard error is 0 and the t-test is undefined';
  }
  const riP = ri.status === 'ok' ? ri.p_two_sided : null;

  // ---- the primary method's numbers
  let primary: MethodEstimate;
  /** the randomization test behind `primary` (to recompute its CI at other levels), or null */
  let primaryRi: RandomizationTestInput | null = null;
  const riPlain = riEstimate(`${RI_NAME(ri)}; CI by test inversion`, ri);
  if (primaryKey === 'randomization_inference_cuped' && riCupedBlock && riCupedBlock.status === 'ok') {
    const { min_attainable_p: _m, ...rest } = riCupedBlock;
    primary = rest;
    primaryRi = { ...riBase, values: riCupedValues!, seed: randomizationSeed(opts.seed, `${seedKey}:cuped`) };
  } else if (primaryKey === 'lin_regression_hc2' && linBlock && linBlock.status === 'ok') {
    primary = linBlock;
  } else if (primaryKey === 'randomization_inference' || primaryKey === 'randomization_inference_cuped') {
    // No usable pre-period KPI: the same test without adjustment (its CI needs a second run).
    let withCi = riPlain;
    if (primaryKey !== 'randomization_inference') {
      const again: RandomizationTestResult = yield { ...riBase, values, seed: randomizationSeed(opts.seed, seedKey), ci: { alpha } };
      const why = riCupedBlock?.status === 'zero_variance' ? 'the CUPED-adjusted KPI is degenerate' : 'no usable pre-period KPI';
      withCi = riEstimate(`${RI_NAME(ri)}; CI by test inversion (${why}, unadjusted)`, again);
    }
    const { min_attainable_p: _m, ...rest } = withCi;
    primary = rest;
    primaryRi = { ...riBase, values, seed: randomizationSeed(opts.seed, seedKey) };
  } else {
    primary = {
      method: 'welch_t (regression adjustment unavailable)',
      status: welch.status,
      estimate: welch.diff,
      ci_low: welch.ci_low,
      ci_high: welch.ci_high,
      se: welch.se,
      df: welch.df,
      p_value: welch.p_two_sided,
      note: 'no usable pre-period KPI for the regression adjustment',
    };
  }

  // ---- the primary method's CI at the levels a Holm-consistent interval may need (secondary/guardrail KPIs)
  const primaryIntervals: NonNullable<KpiResult['primary_intervals']> = [];
  if (role !== 'primary' && primary.status === 'ok' && primary.p_value !== null) {
    for (const level of opts.intervalAlphas ?? []) {
      if (primary.se !== null && primary.df !== null && primary.estimate !== null) {
        const q = studentTInv(1 - level / 2, primary.df);
        primaryIntervals.push({ alpha: level, ci_low: primary.estimate - q * primary.se, ci_high: primary.estimate + q * primary.se });
      } else if (primaryRi) {
        const again: RandomizationTestResult = yield { ...primaryRi, ci: { alpha: level } };
        primaryIntervals.push({ alpha: level, ci_low: again.ci?.low ?? null, ci_high: again.ci?.high ?? null });
      }
    }
  }

  const result: KpiResult = {
    kpi,
    label: meta.label,
    unit: meta.unit,
    role,
    higher_is_better: meta.higherIsBetter,
    treatment_arm: units.treatmentArm,
    control_arm: units.controlArm,
    status,
    status_reason: reason,
    control: summarise(units.controlArm, cValues),
    treatment: summarise(units.treatmentArm, tValues),
    difference: {
      method: 'welch_t',
      estimate: welch.diff,
      ci_low: welch.ci_low,
      ci_high: welch.ci_high,
      conf_level: 1 - alpha,
      se: welch.se,
      t: welch.t,
      df: welch.df,
      p_value: welch.p_two_sided,
    },
    relative_lift: {
      method: 'delta',
      status: lift.status,
      estimate: lift.lift,
      ci_low: lift.delta.ci_low,
      ci_high: lift.delta.ci_high,
      fieller: { bounded: lift.fieller.bounded, ci_low: lift.fieller.ci_low, ci_high: lift.fieller.ci_high },
    },
    randomization: {
      method: ri.status === 'ok' ? ri.method : null,
      statistic: 'difference_in_means',
      p_value: riP,
      n_assignments: ri.n_assignments,
      draws: ri.method === 'monte_carlo' ? ri.draws : null,
      min_attainable_p: ri.status === 'ok' ? ri.min_attainable_p : null,
      ci_low: ri.ci?.low ?? null,
      ci_high: ri.ci?.high ?? null,
      design: ri.design ? `${ri.design.type}${ri.design.acceptance ? `; ${ri.design.acceptance}` : ''}` : null,
    },
    pre_period: prePeriod,
    methods: {
      cuped: cupedBlock,
      regression_adjustment: linBlock,
      randomization_cuped: riCupedBlock,
      change_score: changeBlock,
      did_panel: didBlock,
      paired_t: pairedBlock,
      wilcoxon_signed_rank: wilcoxonBlock,
    },
    non_inferiority: niBlock,
    design_analyses: designBlock,
    primary,
    primary_intervals: primaryIntervals.length ? primaryIntervals : null,
    adjusted: null,
    decision_p: role === 'primary' ? primary.p_value : null,
    significant: null,
    verdict: '',
  };
  return finalise(result, alpha);
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

function finalise(r: KpiResult, alpha: number): KpiResult {
  const significant = r.status === 'ok' && r.decision_p !== null ? r.decision_p < alpha : null;
  return { ...r, significant, verdict: verdictOf(r, significant, alpha) };
}

function pct(x: number): string {
  const s = (100 * x).toFixed(1);
  return `${x > 0 ? '+' : ''}${s}%`;
}

function num(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

/** A difference in the KPI's unit, for sentences: fractions as percentage points. */
function diffText(x: number, unit: string): string {
  if (unit === 'fraction 0..1') return `${(100 * x).toFixed(1)} pp`;
  if (unit === 'currency per day') return `${num(x)} per day`;
  if (unit === 'days') return `${num(x)} days`;
  return num(x);
}

function fmtP(p: number): string {
  return p < 1e-4 ? '< 0.0001' : p.toFixed(4);
}

/** Short method name for sentences. */
function methodShort(m: string): string {
  if (m.includes('CUPED-adjusted')) return 'randomization inference (CUPED-adjusted)';
  if (m.startsWith('randomization inference')) return 'randomization inference';
  if (m.startsWith('lin_')) return "Lin's regression adjustment (HC2)";
  if (m.startsWith('welch')) return 'Welch';
  return m;
}

/** A plain-language sentence for one KPI result; it quotes the CI and p of the same method. */
function verdictOf(r: KpiResult, significant: boolean | null, alpha: number): string {
  const label = r.label.toLowerCase();
  const vs = r.treatment_arm === 'treatment' && r.control_arm === 'control' ? 'treatment vs control' : `${r.treatment_arm} vs ${r.control_arm}`;
  if (r.status !== 'ok') return `Cannot judge ${label}${vs === 'treatment vs control' ? '' : ` (${vs})`}: ${r.status_reason}.`;
  if (r.decision_p === null) return `Cannot judge ${label}: the primary method (${methodShort(r.primary.method)}) had too little data.`;
  const m = r.primary;
  const level = Math.round(100 * (1 - alpha));
  const name = methodShort(m.method);
  const hc = r.adjusted?.interval;
  const ci =
    hc && hc.ci_low !== null && hc.ci_high !== null
      ? `${name} Holm-consistent ${(100 * hc.conf_level).toFixed(1)}% CI of the difference ${diffText(hc.ci_low, r.unit)} to ${diffText(hc.ci_high, r.unit)}`
      : m.ci_low !== null && m.ci_high !== null
        ? `${name} ${level}% CI of the difference ${diffText(m.ci_low, r.unit)} to ${diffText(m.ci_high, r.unit)}${r.adjusted ? ' (unadjusted)' : ''}`
        : `${name}: no finite ${level}% CI (${m.note ?? 'not available'})`;
  const pName = r.adjusted ? `${r.adjusted.method === 'bh' ? 'Benjamini–Hochberg' : 'Holm'}-adjusted ${name} p` : `${name} p`;
  const liftText = r.relative_lift.estimate !== null ? `${pct(r.relative_lift.estimate)} ` : '';
  const ni = r.non_inferiority
    ? r.non_inferiority.non_inferior === null
      ? ' Non-inferiority could not be tested.'
      : r.non_inferiority.non_inferior
        ? ` Non-inferior within the ${r.non_inferiority.margin_type} margin ${r.non_inferiority.margin} (one-sided p = ${fmtP(r.non_inferiority.adjusted_p ?? r.non_inferiority.p_value!)}).`
        : ` NOT shown non-inferior within the ${r.non_inferiority.margin_type} margin ${r.non_inferiority.margin} (one-sided p = ${fmtP(r.non_inferiority.adjusted_p ?? r.non_inferiority.p_value!)} ≥ α).`
    : '';
  if (!significant) {
    const floor =
      r.randomization.min_attainable_p !== null && r.randomization.min_attainable_p >= alpha && m.method.startsWith('randomization')
        ? ` With these territories the smallest attainable p is ${fmtP(r.randomization.min_attainable_p)}, so this design cannot reach significance at α = ${alpha}.`
        : '';
    return `No significant difference in ${label} (${liftText}${vs}; ${ci}; ${pName} = ${fmtP(r.decision_p)} ≥ α = ${alpha}).${floor}${ni}`;
  }
  const up = (m.estimate ?? r.difference.estimate!) > 0;
  const better = up === r.higher_is_better;
  return `${vs === 'treatment vs control' ? 'Treatment' : r.treatment_arm} ${up ? 'raised' : 'lowered'} ${label} (${better ? 'better' : 'worse'}): ${liftText}(${ci}); significant at α = ${alpha} (${pName} = ${fmtP(r.decision_p)}).${ni}`;
}
