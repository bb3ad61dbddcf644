/**
 * Studentized randomization test ("randomization-t"): Fisher's test with a robust t statistic in
 * place of the raw difference, re-drawing assignments from the design that was actually used (same
 * strata or pairs and counts, same rerandomization acceptance rule). It is exact under the sharp null
 * of no effect on any territory, like every randomization test, and, because the statistic is
 * studentized, also asymptotically valid for the weak null of no AVERAGE effect, where the raw
 * difference in means is not when arms differ in size or spread (Chung & Romano 2013, Annals of
 * Statistics 41; Wu & Ding 2021, JASA 116; Young 2019, QJE 134 uses it to re-check published
 * experiments). Statistics, one per design (Wu & Ding 2021 §4–5):
 *  - 'welch_t' (complete randomization): (ȳ_T − ȳ_C)/√(s²_T/n_T + s²_C/n_C) (= the HC2 t of the
 *    regression on the treatment dummy);
 *  - 'stratified_t' (strata): τ̂ = Σ_s w_s(ȳ_Ts − ȳ_Cs), w_s = n_s/n over the compared units,
 *    V̂ = Σ_s w_s²(s²_Ts/n_Ts + s²_Cs/n_Cs); every stratum needs ≥ 2 observed units per arm;
 *  - 'paired_t' (matched pairs): mean(d)/(sd(d)/√P) over pair differences d = y_T − y_C;
 *  - 'lin_hc2_t' (rerandomization; Li, Ding & Rubin 2018, PNAS 115, and Zhao & Ding 2021 for
 *    the studentized version): the HC2 t of the treatment coefficient in y ~ 1 + T + Xc + T·Xc,
 *    Xc the centred balancing covariates (Lin 2013).
 * p-values as the project's randomization inference: exact share over the enumeration
 * (#{|t_a| ≥ |t_obs| − tol}/N) or (1 + #{|t_b| ≥ |t_obs| − tol})/(B + 1) for Monte Carlo.
 * Assignments where the statistic is undefined (an arm with < 2 observed values, a stratum without
 * two per arm) are left out of the reference set and counted. CI: for the cheap statistics, by
 * inverting the test over constant additive effects τ (outcomes y − τ·1[observed treatment]),
 * bisection over the same stored assignments; for 'lin_hc2_t' not computed (its p is the decision).
 */
import type { RandomizationDesign } from './design/designs';
import { DesignTemplate, enumerateAssignments, countAssignments } from './design/randomization';
import { hcCovariance, olsFit } from './linear-model';
import { linHc2PerArm, sufficientEvaluator } from './randomization-t-sums';
import { conditionOnComparedArms, sampleReferenceSet } from './randomization-reference-set';

/** The studentized statistics offered (see the file header). */
export type StudentizedStatistic = 'welch_t' | 'stratified_t' | 'paired_t' | 'lin_hc2_t';

/** Input of `randomizationTTest`. */
export interface RandomizationTInput {
  /** KPI value per territory (null = missing; the territory keeps its place in the design) */
  values: readonly (number | null)[];
  /** arm per territory as assigned */
  arms: readonly string[];
  treatmentArm: string;
  controlArm: string;
  /** the stored design (randomizationDesignFromStored) over the same territories in the same order */
  design: RandomizationDesign;
  /** 'auto' (default): pairs → paired_t, strata → stratified_t, rerandomization with covariates → lin_hc2_t, else welch_t */
  statistic?: 'auto' | StudentizedStatistic;
  /** balancing covariates per territory (rows), for lin_hc2_t */
  covariates?: readonly (readonly number[])[];
  maxExact?: number;
  draws?: number;
  seed?: number;
  /** CI level 1 − alpha (default 0.05); the CI is computed unless `ci` is false */
  alpha?: number;
  ci?: boolean;
  /** Monte Carlo with an acceptance rule: most draws tried (default 1000·draws) */
  maxTries?: number;
  /**
   * How the reference statistics are evaluated: 'sufficient_statistics' (default for welch_t,
   * stratified_t and paired_t: per assignment and group, sums of y and y² split by observed arm are
   * stored once, so each candidate effect τ of the test inversion costs O(groups) per assignment) or
   * 'direct' (the statistic recomputed from the outcomes y − τ·1[observed treatment], O(n); the
   * reference route the tests compare with). Both give the same statistics up to rounding. For
   * lin_hc2_t the default is the closed form arm by arm (`linHc2PerArm`) and 'direct' the
   * normal equations of the whole interacted model.
   */
  evaluation?: 'sufficient_statistics' | 'direct';
}

/** Result of `randomizationTTest`. */
export interface RandomizationTResult {
  method: 'randomization_t';
  statistic: StudentizedStatistic;
  enumeration: boolean;
  /** assignments in the reference set (accepted, statistic defined), observed one included */
  reference_size: number;
  n_undefined: number;
  n_rejected: number;
  seed: number | null;
  /** estimate matching the statistic (difference, stratum-weighted difference, mean pair difference, Lin coefficient) */
  estimate: number | null;
  t: number | null;
  p_value: number | null;
  min_attainable_p: number | null;
  ci_low: number | null;
  ci_high: number | null;
  conf_level: number;
  status: 'ok' | 'insufficient_data';
  note: string | null;
}

/** What the statistics need besides labels and outcomes. */
export interface Ctx {
  n: number;
  tIdx: number;
  cIdx: number;
  strata: number[][];
  cov: readonly (readonly number[])[] | null;
  /** lin_hc2_t through the normal equations of the whole model (`olsFit` + HC2), the reference route; else `linHc2PerArm` */
  direct?: boolean;
}

function meanVar(xs: number[]): [number, number] {
  const m = xs.reduce((s, v) => s + v, 0) / xs.length;
  return [m, xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1)];
}

/** [estimate, t] of the statistic for labels and outcomes y (NaN = missing); NaN when undefined. */
function studentized(stat: StudentizedStatistic, ctx: Ctx, labels: Uint8Array, y: Float64Array): [number, number] {
  const { tIdx, cIdx } = ctx;
  if (stat === 'welch_t' || stat === 'lin_hc2_t') {
    const yt: number[] = [];
    const yc: number[] = [];
    const rows: number[] = [];
    for (let i = 0; i < ctx.n; i++) {
      if (Number.isNaN(y[i])) continue;
      if (labels[i] === tIdx) yt.push(y[i]);
      else if (labels[i] === cIdx) yc.push(y[i]);
      else continue;
      rows.push(i);
    }
    if (yt.length < 2 || yc.length < 2) return [NaN, NaN];
    if (stat === 'welch_t') {
      const [mt, vt] = meanVar(yt);
      const [mc, vc] = meanVar(yc);
      const d = mt - mc;
      return [d, d / Math.sqrt(vt / yt.length + vc / yc.length)];
    }
    return ctx.direct ? linHc2(ctx, labels, y, rows) : linHc2PerArm(ctx, labels, y, rows);
  }
  if (stat === 'paired_t') {
    const d: number[] = [];
    for (const units of ctx.strata) {
      let t = NaN;
      let c = NaN;
      for (const u of units) {
        if (labels[u] === tIdx) t = y[u];
        else if (labels[u] === cIdx) c = y[u];
      }
      if (!Number.isNaN(t) && !Number.isNaN(c)) d.push(t - c);
    }
    if (d.length < 2) return [NaN, NaN];
    const [m, v] = meanVar(d);
    return [m, m / Math.sqrt(v / d.length)];
  }
  let est = 0;
  let variance = 0;
  let total = 0;
  const parts: [number, number, number][] = [];
  for (const units of ctx.strata) {
    const yt: number[] = [];
    const yc: number[] = [];
    for (const u of units) {
      if (Number.isNaN(y[u])) continue;
      if (labels[u] === tIdx) yt.push(y[u]);
      else if (labels[u] === cIdx) yc.push(y[u]);
    }
    if (yt.length + yc.length === 0) continue;
    if (yt.length < 2 || yc.length < 2) return [NaN, NaN];
    const [mt, vt] = meanVar(yt);
    const [mc, vc] = meanVar(yc);
    parts.push([yt.length + yc.length, mt - mc, vt / yt.length + vc / yc.length]);
    total += yt.length + yc.length;
  }
  for (const [ns, d, v] of parts) {
    est += (ns / total) * d;
    variance += (ns / total) ** 2 * v;
  }
  return [est, est / Math.sqrt(variance)];
}

function linHc2(ctx: Ctx, labels: Uint8Array, y: Float64Array, rows: number[]): [number, number] {
  const cov = ctx.cov!;
  const q = cov[0]?.length ?? 0;
  const means = Array.from({ length: q }, (_, a) => rows.reduce((s, i) => s + cov[i][a], 0) / rows.length);
  const x = rows.map((i) => {
    const tr = labels[i] === ctx.tIdx ? 1 : 0;
    const xc = means.map((m, a) => cov[i][a] - m);
    return [1, tr, ...xc, ...xc.map((v) => tr * v)];
  });
  try {
    const fit = olsFit(x, rows.map((i) => y[i]));
    const v = hcCovariance(fit, 'HC2');
    if (!v || !(v[1][1] > 0)) return [NaN, NaN];
    return [fit.coef[1], fit.coef[1] / Math.sqrt(v[1][1])];
  } catch {
    return [NaN, NaN];
  }
}

function chooseStatistic(input: RandomizationTInput): StudentizedStatistic {
  if (input.statistic && input.statistic !== 'auto') return input.statistic;
  const type = input.design.description.type;
  if (type === 'matched_pairs') return 'paired_t';
  if (type === 'stratified') return 'stratified_t';
  if (type === 'rerandomization' && input.covariates && input.covariates[0]?.length) return 'lin_hc2_t';
  return 'welch_t';
}

/** The reference set: every accepted assignment of the design (enumerated) or B accepted draws. */
function referenceSet(template: DesignTemplate, accept: ((l: Uint8Array) => boolean) | null, input: RandomizationTInput) {
  const maxExact = input.maxExact ?? 100_000;
  const draws = input.draws ?? 9_999;
  if (!(Number.isInteger(maxExact) && maxExact >= 1) || !(Number.isInteger(draws) && draws >= 1)) throw new RangeError('maxExact and draws must be positive integers');
  const total = countAssignments(template);
  const labels: Uint8Array[] = [];
  let rejected = 0;
  if (total.count <= maxExact) {
    for (const l of enumerateAssignments(template)) {
      if (accept && !accept(l)) rejected++;
      else labels.push(Uint8Array.from(l));
    }
    return { labels, rejected, enumeration: true, seed: null as number | null };
  }
  const seed = input.seed ?? 0;
  // the same pass as the randomization test's (sharing its kept draws under an acceptance rule)
  const pass = sampleReferenceSet(template, accept, { draws, maxTries: input.maxTries ?? draws * 1000, seed }, (l) => labels.push(Uint8Array.from(l)));
  let step = pass.next();
  while (!step.done) step = pass.next();
  rejected = step.value.rejected;
  return { labels, rejected, enumeration: false, seed: seed as number | null };
}

/**
 * Studentized randomization test (randomization-t) under the actual design, with a CI by test
 * inversion for the welch_t, stratified_t and paired_t statistics (see the file header).
 * @returns status 'insufficient_data' (null inference) when the observed statistic is undefined
 * @throws RangeError on mismatched lengths, unknown arms, non-finite values, a covariate matrix of the
 *   wrong size, invalid budgets; DesignError from the design module on an inconsistent design
 * Sources: Chung & Romano (2013); Wu & Ding (2021); Young (2019); Li, Ding & Rubin (2018); Lin (2013).
 */
export function randomizationTTest(input: RandomizationTInput): RandomizationTResult {
  const { values, arms, design } = input;
  const n = values.length;
  if (arms.length !== n || design.template.n_units !== n) throw new RangeError('values, arms and the design must cover the same territories');
  if (values.some((v) => v !== null && !Number.isFinite(v))) throw new RangeError('values must be finite numbers or null');
  const tIdx = design.template.arms.indexOf(input.treatmentArm);
  const cIdx = design.template.arms.indexOf(input.controlArm);
  if (tIdx < 0 || cIdx < 0 || tIdx === cIdx) throw new RangeError('treatmentArm and controlArm must be two different arms of the design');
  const observed = Uint8Array.from(arms.map((a) => {
    const i = design.template.arms.indexOf(a);
    if (i < 0) throw new RangeError(`arm '${a}' is not in the design`);
    return i;
  }));
  const statistic = chooseStatistic(input);
  if (statistic === 'lin_hc2_t' && (!input.covariates || input.covariates.length !== n)) throw new RangeError('lin_hc2_t needs one covariate row per territory');
  const alpha = input.alpha ?? 0.05;
  // territories of other arms held fixed; the two compared arms permuted within their strata
  const { template } = conditionOnComparedArms(design.template, observed, tIdx, cIdx);
  const ctx: Ctx = { n, tIdx, cIdx, strata: template.strata.map((s) => s.units), cov: input.covariates ?? null, direct: input.evaluation === 'direct' };
  const y = Float64Array.from(values.map((v) => (v === null ? NaN : v)));
  const [estimate, tObs] = studentized(statistic, ctx, observed, y);
  const base: RandomizationTResult = {
    method: 'randomization_t',
    statistic,
    enumeration: false,
    reference_size: 0,
    n_undefined: 0,
    n_rejected: 0,
    seed: null,
    estimate: null,
    t: null,
    p_value: null,
    min_attainable_p: null,
    ci_low: null,
    ci_high: null,
    conf_level: 1 - alpha,
    status: 'insufficient_data',
    note: null,
  };
  if (!Number.isFinite(tObs)) return { ...base, note: 'the studentized statistic is undefined for the observed assignment (an arm or stratum has fewer than two observed values, or no spread)' };
  const ref = referenceSet(template, design.accept, input);
  const fast = input.evaluation === 'direct' ? null : sufficientEvaluator(statistic, ctx, ref.labels, y, observed);
  // reference statistics at the constant effect τ (outcomes y − τ·1[observed treatment])
  const referenceAt = (tau: number, yy: Float64Array): ((b: number) => number) => {
    if (fast) return fast(tau);
    return (b) => studentized(statistic, ctx, ref.labels[b], yy)[1];
  };
  const pAt = (tau: number, yy: Float64Array, tRef: number): { p: number; size: number; undef: number } => {
    const bound = Math.abs(tRef) - 1e-9 * Math.max(1, Math.abs(tRef));
    const tOf = referenceAt(tau, yy);
    let ge = 0;
    let undef = 0;
    for (let b = 0; b < ref.labels.length; b++) {
      const t = tOf(b);
      if (Number.isNaN(t)) undef++;
      else if (Math.abs(t) >= bound) ge++;
    }
    const size = ref.labels.length - undef;
    return ref.enumeration ? { p: ge / Math.max(1, size), size, undef } : { p: (1 + ge) / (size + 1), size: size + 1, undef };
  };
  const obs = pAt(0, y, tObs);
  const result: RandomizationTResult = {
    ...base,
    enumeration: ref.enumeration,
    reference_size: obs.size,
    n_undefined: obs.undef,
    n_rejected: ref.rejected,
    seed: ref.seed,
    estimate,
    t: tObs,
    p_value: obs.p,
    min_attainable_p: 1 / Math.max(1, obs.size),
    status: 'ok',
  };
  if (input.ci === false) return result;
  if (statistic === 'lin_hc2_t') return { ...result, note: 'no CI by test inversion for the regression-adjusted statistic; the p-value decides, the Lin estimate and its HC2 interval are shown beside it' };
  const pOf = (tau: number): number => {
    const yy = Float64Array.from(y, (v, i) => (observed[i] === tIdx ? v - tau : v));
    return pAt(tau, yy, studentized(statistic, ctx, observed, yy)[1]).p;
  };
  const se = Math.abs(estimate / tObs) || 1e-12;
  const bound = (dir: 1 | -1): number | null => {
    let inside = estimate;
    let step = se;
    let outside: number | null = null;
    for (let i = 0; i < 40 && outside === null; i++, step *= 2) {
      if (pOf(estimate + dir * step) < alpha) outside = estimate + dir * step;
      else inside = estimate + dir * step;
    }
    if (outside === null) return null;
    let out: number = outside;
    for (let i = 0; i < 40 && Math.abs(out - inside) > 1e-9 * se; i++) {
      const mid: number = (inside + out) / 2;
      if (pOf(mid) >= alpha) inside = mid;
      else out = mid;
    }
    return inside;
  };
  const lo = bound(-1);
  const hi = bound(1);
  const note = lo === null || hi === null ? `no constant effect far from the estimate is rejected at ${alpha} (smallest attainable p ${result.min_attainable_p!.toPrecision(3)}): the interval is unbounded` : null;
  return { ...result, ci_low: lo, ci_high: hi, note };
}
