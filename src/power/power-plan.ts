/**
 * Power planning for a pilot, pure TypeScript: the analytic part (MDE at the target power, power at
 * given lifts, territories and weeks needed for a target MDE) and the simulation part (placebo pilots
 * on past windows with the same design). The service (power.service.ts, power-job.service.ts)
 * gathers the territories' history and calls these.
 *
 * Analytic model (t-based; Cohen 1988; statsmodels TTestIndPower): the outcome's SD σ is the SD of
 * the KPI across the eligible territories over the most recent past window shaped like the test
 * period; adjustment shrinks the variance by the residual-variance ratio of the OLS of that KPI on
 * the design's blocks (strata or matched pairs: block fixed effects) and on the pre-period KPI
 * (covariate adjustment), each parameter costing one degree of freedom:
 *     σ²_eff = σ²·RSS/(n − 1 − q) / (TSS/(n − 1)),   df = n_C + n_T − 2 − q
 * (q = blocks − 1 + [covariate]); matched pairs: df = pairs − 1 (the paired t). Lifts are relative to
 * the KPI's mean (0.10 = +10%): d = lift·mean/σ_eff.
 */
import { createHash } from 'node:crypto';
import { DesignError } from '../stats/design/allocation';
import { DesignSpec, DesignUnit, drawDesign } from '../stats/design/designs';
import { welchTTest } from '../stats/welch';
import { linRegressionAdjustment } from '../stats/covariate-adjustment';
import { clopperPearson } from './binomial-ci';
import { tTestMde, tTestNobs1, tTestPower } from './analytic-power';

/** Residual-variance ratio of the adjustment (block fixed effects + covariate) and its parameters. */
export interface VarianceReduction {
  /** σ²_residual / σ² (1 = no reduction); 1 − this is the adjusted R² */
  variance_ratio: number;
  /** parameters estimated besides the arm effect: blocks − 1 + [covariate] */
  parameters: number;
  blocks: number;
  covariate_used: boolean;
  /** territories with a missing covariate value that were mean-imputed */
  covariate_imputed: number;
}

/**
 * Frisch–Waugh residual variance of y on block dummies and (optionally) x: y and x are demeaned
 * within blocks, then y is regressed on x. Missing x: mean-imputed (never 0).
 *
 * @param y outcome per territory (finite numbers)
 * @param x covariate per territory or null; entries may be null (imputed)
 * @param blocks block label per territory or null (one block)
 */
export function varianceReduction(y: readonly number[], x: readonly (number | null)[] | null, blocks: readonly string[] | null): VarianceReduction {
  const n = y.length;
  const labels = blocks ?? y.map(() => 'all');
  const groups = new Map<string, number[]>();
  labels.forEach((b, i) => {
    const g = groups.get(b);
    if (g) g.push(i);
    else groups.set(b, [i]);
  });
  const xs = x ? imputeMean(x) : null;
  const yw = new Float64Array(n);
  const xw = new Float64Array(n);
  for (const idx of groups.values()) {
    const my = idx.reduce((s, i) => s + y[i], 0) / idx.length;
    const mx = xs ? idx.reduce((s, i) => s + xs.values[i], 0) / idx.length : 0;
    for (const i of idx) {
      yw[i] = y[i] - my;
      if (xs) xw[i] = xs.values[i] - mx;
    }
  }
  const mean = y.reduce((s, v) => s + v, 0) / n;
  let tss = 0;
  for (const v of y) tss += (v - mean) ** 2;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += xw[i] * xw[i];
    sxy += xw[i] * yw[i];
  }
  const useX = xs !== null && sxx > 1e-12 * Math.max(1, tss);
  const b = useX ? sxy / sxx : 0;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (yw[i] - b * xw[i]) ** 2;
  const q = groups.size - 1 + (useX ? 1 : 0);
  const residualDf = n - 1 - q;
  const ratio = tss > 0 && residualDf > 0 ? rss / residualDf / (tss / (n - 1)) : 1;
  return { variance_ratio: ratio, parameters: q, blocks: groups.size, covariate_used: useX, covariate_imputed: xs?.imputed ?? 0 };
}

function imputeMean(x: readonly (number | null)[]): { values: number[]; imputed: number } {
  const present = x.filter((v): v is number => v !== null);
  const m = present.length ? present.reduce((s, v) => s + v, 0) / present.length : 0;
  return { values: x.map((v) => (v === null ? m : v)), imputed: x.length - present.length };
}

/** One treatment-vs-control comparison of the analytic plan. */
export interface AnalyticComparison {
  treatment_arm: string;
  control_arm: string;
  n_control: number;
  n_treatment: number;
  df: number;
  /** MDE at the target power: standardized, in the KPI's unit, and relative to the KPI mean */
  mde: { effect_size: number; absolute: number; relative: number | null };
  power_at_lifts: { lift: number; absolute: number; power: number }[];
  /** territories needed (both arms, same ratio and design) for the target MDE; null without a target */
  territories_needed: { target_mde: number; n_control: number; n_treatment: number; total: number } | null;
}

/**
 * The analysis an analytic MDE is computed for, and what it assumes: it is an approximation for that
 * method, not the power of the report's deciding method (randomization inference, possibly on the
 * Lin-adjusted KPI); the simulated MDE decides when the placebo simulation has run (power-decision.ts).
 */
export interface AnalyticAppliesTo {
  /** the simulated method the figure is compared with: 'lin_regression_adjustment' | 'welch' */
  method: 'lin_regression_adjustment' | 'welch';
  /** the analysis the t-based figure describes, in words */
  analysis: string;
  assumptions: string[];
  note: string;
}

/** Analytic plan of a pilot (see module doc). */
export interface AnalyticPlan {
  method: string;
  /** the method the analytic MDE and power apply to, with its assumptions (an approximation for it) */
  applies_to: AnalyticAppliesTo;
  alpha: number;
  power: number;
  n_territories: number;
  n_missing_outcome: number;
  kpi_mean: number;
  kpi_sd: number;
  adjusted_sd: number;
  adjustment: VarianceReduction & { note: string | null };
  comparisons: AnalyticComparison[];
}

/**
 * What the analytic figures apply to: a t-test on the KPI adjusted by OLS for the design's blocks and
 * (when used) the pre-period KPI, i.e. Lin's regression adjustment (with a covariate) or the
 * unadjusted comparison of means (Welch, without one), under the model's assumptions.
 */
export function analyticAppliesTo(red: VarianceReduction, paired: boolean): AnalyticAppliesTo {
  const adjusted = [red.blocks > 1 ? (paired ? 'pair fixed effects' : 'stratum fixed effects') : null, red.covariate_used ? 'the pre-period KPI' : null].filter(Boolean);
  const method = red.covariate_used ? 'lin_regression_adjustment' : 'welch';
  return {
    method,
    analysis: adjusted.length ? `t-test on the KPI adjusted by OLS for ${adjusted.join(' and ')} (${paired ? 'paired t, pairs − 1 df' : `df = n − 2 − ${red.parameters}`})` : 't-test on the difference in means (no adjustment)',
    assumptions: [
      'normal errors with the same variance in both arms (noncentral t)',
      'a constant additive effect: the lift times the KPI mean, the same in every territory',
      "the reference window's SD and residual-variance ratio hold in the test period",
    ],
    note:
      `an approximation for ${method === 'welch' ? 'Welch' : "Lin's regression adjustment"}, not the power of the report's deciding method (randomization inference, on Lin's interacted adjustment for the pre-period KPI when one is usable); ` +
      'with heavy-tailed KPIs or few territories the deciding method can have much less power. The simulated MDE decides when the placebo simulation has run',
  };
}

/**
 * The analytic part of the power plan.
 *
 * @param input y: KPI per territory over the reference window (null = undefined, dropped); x: the
 *   pre-period KPI per territory (null allowed) or null for no covariate adjustment; blocks: stratum
 *   or pair per territory, or null; paired: matched pairs (df = pairs − 1); arms with exact counts;
 *   lifts relative (0.1 = +10%); target_mde relative or null
 * @throws RangeError when fewer than 4 territories have a value or the KPI does not vary
 */
export function analyticPlan(input: {
  y: readonly (number | null)[];
  x: readonly (number | null)[] | null;
  blocks: readonly string[] | null;
  paired: boolean;
  arms: readonly { key: string; role: 'control' | 'treatment'; count: number }[];
  alpha: number;
  power: number;
  lifts: readonly number[];
  target_mde: number | null;
}): AnalyticPlan {
  const keep = input.y.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
  const y = keep.map((i) => input.y[i] as number);
  if (y.length < 4) throw new RangeError(`only ${y.length} territories have a value of this KPI in the reference window; a plan needs at least 4`);
  const x = input.x ? keep.map((i) => (input.x as (number | null)[])[i]) : null;
  const blocks = input.blocks ? keep.map((i) => (input.blocks as string[])[i]) : null;
  const n = y.length;
  const mean = y.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  if (!(sd > 0)) throw new RangeError('the KPI does not vary across territories in the reference window');
  // A covariate (or blocks) that explains the KPI exactly leaves no residual variance: fall back to
  // fewer adjustments rather than plan on σ = 0, and say so.
  let red = varianceReduction(y, x, blocks);
  let note: string | null = null;
  if (!(red.variance_ratio > 1e-9)) {
    red = varianceReduction(y, null, blocks);
    note = 'the pre-period KPI explains the reference-window KPI exactly; planned without covariate adjustment';
    if (!(red.variance_ratio > 1e-9)) {
      red = varianceReduction(y, null, null);
      note = 'the blocks explain the reference-window KPI exactly; planned without adjustment';
    }
  }
  const sdEff = sd * Math.sqrt(red.variance_ratio);
  const control = input.arms.find((a) => a.role === 'control');
  if (!control) throw new RangeError('the design has no control arm');
  const comparisons = input.arms
    .filter((a) => a.role === 'treatment')
    .map((t): AnalyticComparison => {
      const ratio = t.count / control.count;
      const df = input.paired ? control.count - 1 : control.count + t.count - 2 - red.parameters;
      const safeDf = Math.max(df, 1);
      const m = tTestMde({ nobs1: control.count, ratio, power: input.power, alpha: input.alpha, df: safeDf, sd: sdEff });
      const powerAt = input.lifts.map((lift) => ({
        lift,
        absolute: lift * mean,
        power: tTestPower({ effect_size: Math.abs(lift * mean) / sdEff, nobs1: control.count, ratio, alpha: input.alpha, df: safeDf }),
      }));
      let needed: AnalyticComparison['territories_needed'] = null;
      if (input.target_mde !== null && mean !== 0) {
        const d = Math.abs(input.target_mde * mean) / sdEff;
        const solved = tTestNobs1({
          effect_size: d,
          power: input.power,
          ratio,
          alpha: input.alpha,
          dfOf: input.paired ? (n1) => n1 - 1 : (n1) => n1 * (1 + ratio) - 2 - red.parameters,
        });
        needed = { target_mde: input.target_mde, n_control: solved.nobs1_ceil, n_treatment: solved.nobs2_ceil, total: solved.nobs1_ceil + solved.nobs2_ceil };
      }
      return {
        treatment_arm: t.key,
        control_arm: control.key,
        n_control: control.count,
        n_treatment: t.count,
        df: safeDf,
        mde: { effect_size: m.effect_size, absolute: m.mde as number, relative: mean > 0 ? (m.mde as number) / mean : null },
        power_at_lifts: powerAt,
        territories_needed: needed,
      };
    });
  return {
    method:
      't-based (noncentral t, both tails), σ from the reference window, shrunk by the residual-variance ratio of block fixed effects' +
      (red.covariate_used ? ' and the pre-period KPI' : '') +
      `; df = n_C + n_T − 2 − ${red.parameters}` +
      (input.paired ? ' (matched pairs: pairs − 1)' : ''),
    applies_to: analyticAppliesTo(red, input.paired),
    alpha: input.alpha,
    power: input.power,
    n_territories: n,
    n_missing_outcome: input.y.length - n,
    kpi_mean: mean,
    kpi_sd: sd,
    adjusted_sd: sdEff,
    adjustment: { ...red, note },
    comparisons,
  };
}

/** One past window of a simulation: the design units with that window's covariates, and the KPI. */
export interface SimulationWindow {
  /** the shifted test window (outcome) and pre-period window (covariates) */
  outcome: { start: string; end: string };
  pre: { start: string; end: string };
  /** design units (codes sorted), covariates including `pre_period_<kpi>` of this window */
  units: DesignUnit[];
  /** outcome KPI per unit (same order) */
  y: (number | null)[];
  /** pre-period KPI per unit (same order), the covariate of the adjusted method; null where missing */
  x: (number | null)[];
  /** false when the window's pre-period starts before the data: x and pre-period design covariates are null */
  pre_complete?: boolean;
}

/** Rate with its Clopper–Pearson 95% interval. */
export interface RateWithCi {
  count: number;
  n: number;
  rate: number | null;
  ci_low: number | null;
  ci_high: number | null;
}

function rate(count: number, n: number): RateWithCi {
  if (n === 0) return { count, n, rate: null, ci_low: null, ci_high: null };
  const ci = clopperPearson(count, n);
  return { count, n, rate: ci.rate, ci_low: ci.low, ci_high: ci.high };
}

/** Result of the placebo simulation. */
export interface SimulationResult {
  simulations: number;
  /** placebo pilots whose design could not be drawn on that window, or whose test had no result */
  skipped: number;
  /** why placebo pilots were skipped: each distinct reason (in words) with its count, most frequent first */
  skip_reasons: { reason: string; count: number }[];
  windows: { outcome: { start: string; end: string }; pre: { start: string; end: string }; pre_complete: boolean }[];
  treatment_arm: string;
  control_arm: string;
  lift_model: string;
  methods: {
    method: 'welch' | 'lin_regression_adjustment';
    false_positive_rate: RateWithCi;
    detection: ({ lift: number } & RateWithCi)[];
  }[];
}

/** Seed of placebo pilot i (first 48 bits of SHA-256 of "<seed>:power:<i>"). */
export function placeboSeed(seed: number, i: number): number {
  return parseInt(createHash('sha256').update(`${seed}:power:${i}`).digest('hex').slice(0, 12), 16);
}

/**
 * Placebo pilots on past windows with the pilot's design: pilot i uses window i mod K, draws the
 * design with seed `placeboSeed(seed, i)`, and tests the first treatment arm against control with
 * Welch and with Lin's regression adjustment on the window's pre-period KPI. Under no effect the share
 * of p < α is the empirical false-positive rate; a lift ℓ is planted by multiplying the treated
 * territories' KPI by 1 + ℓ, and the share of p < α is the detection rate (empirical power).
 * A generator: it yields the number of pilots done every ~`chunk` pilots, so the caller can report
 * progress and let the event loop breathe; the return value is the result.
 *
 * @throws RangeError when no window is given
 */
export function* simulatePlacebo(input: {
  windows: readonly SimulationWindow[];
  spec: Omit<DesignSpec, 'seed'>;
  seed: number;
  simulations: number;
  lifts: readonly number[];
  alpha: number;
  chunk?: number;
}): Generator<number, SimulationResult, undefined> {
  const K = input.windows.length;
  if (K === 0) throw new RangeError('no past window with enough history for a placebo pilot');
  const control = input.spec.arms.find((a) => a.role === 'control') ?? input.spec.arms[0];
  const treatment = input.spec.arms.find((a) => a.role === 'treatment' && a.key !== control.key) ?? input.spec.arms[1];
  const methods = ['welch', 'lin_regression_adjustment'] as const;
  const counts = methods.map(() => ({ fp: 0, n: 0, det: input.lifts.map(() => 0), nDet: input.lifts.map(() => 0) }));
  let skipped = 0;
  const reasons = new Map<string, number>();
  const skip = (reason: string) => {
    skipped++;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  const chunk = input.chunk ?? 10;
  for (let i = 0; i < input.simulations; i++) {
    if (i > 0 && i % chunk === 0) yield i;
    const w = input.windows[i % K];
    let arms: Record<string, string>;
    try {
      arms = drawDesign(w.units, { ...input.spec, seed: placeboSeed(input.seed, i) }).arms;
    } catch (err) {
      if (err instanceof DesignError) {
        skip(`the design could not be drawn on the window ${w.outcome.start}..${w.outcome.end}: ${err.message}`);
        continue;
      }
      throw err;
    }
    const idx: number[] = [];
    const treated: (0 | 1)[] = [];
    w.units.forEach((u, k) => {
      const a = arms[u.code];
      if ((a === treatment.key || a === control.key) && w.y[k] !== null) {
        idx.push(k);
        treated.push(a === treatment.key ? 1 : 0);
      }
    });
    const run = (lift: number): (number | null)[] => {
      const y = idx.map((k, j) => (w.y[k] as number) * (treated[j] ? 1 + lift : 1));
      const t = y.filter((_, j) => treated[j]);
      const c = y.filter((_, j) => !treated[j]);
      const welch = welchTTest(t, c, { alpha: input.alpha });
      const x = idx.map((k) => w.x[k]);
      // without any pre-period value there is nothing to adjust on: Lin is not run on this window
      const lin = x.some((v) => v !== null) ? linRegressionAdjustment(y, x, treated, { alpha: input.alpha }).p_value : null;
      return [welch.p_two_sided, lin];
    };
    const nullP = run(0);
    if (nullP.every((p) => p === null)) {
      skip(`no test could be computed on the window ${w.outcome.start}..${w.outcome.end} (${idx.length} territories with a value in the compared arms; each arm needs 2 values with some variation)`);
      continue;
    }
    nullP.forEach((p, m) => {
      if (p === null) return;
      counts[m].n++;
      if (p < input.alpha) counts[m].fp++;
    });
    input.lifts.forEach((lift, l) => {
      run(lift).forEach((p, m) => {
        if (p === null) return;
        counts[m].nDet[l]++;
        if (p < input.alpha) counts[m].det[l]++;
      });
    });
  }
  return {
    simulations: input.simulations,
    skipped,
    skip_reasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    windows: input.windows.map((w) => ({ outcome: w.outcome, pre: w.pre, pre_complete: w.pre_complete ?? true })),
    treatment_arm: treatment.key,
    control_arm: control.key,
    lift_model: 'multiplicative: the treated territories’ KPI × (1 + lift)',
    methods: methods.map((method, m) => ({
      method,
      false_positive_rate: rate(counts[m].fp, counts[m].n),
      detection: input.lifts.map((lift, l) => ({ lift, ...rate(counts[m].det[l], counts[m].nDet[l]) })),
    })),
  };
}

/**
 * Why a finished simulation cannot be reported as completed (issue 14: never a silent failure):
 * every placebo pilot skipped, or no method produced a single rate. Null when at least one rate exists.
 * @returns the reason in words (the skip reasons with their counts), for the job's error
 */
export function simulationFailure(result: SimulationResult): string | null {
  const anyRate = result.methods.some((m) => m.false_positive_rate.n > 0);
  if (anyRate && result.skipped < result.simulations) return null;
  const why = result.skip_reasons.length ? result.skip_reasons.map((r) => `${r.count}× ${r.reason}`).join('; ') : 'no placebo pilot produced a test result';
  return `none of the ${result.simulations} placebo pilots could be analysed: ${why}`;
}
