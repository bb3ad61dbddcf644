/**
 * Fisher randomization inference for territory pilots (Imbens & Rubin 2015, ch. 5): under the sharp
 * null of no effect on any territory, outcomes (including missingness) are fixed and only the
 * assignment is random, so the statistic is recomputed over assignments drawn from the SAME design
 * (same strata, same per-stratum arm counts; matched pairs: sign flips).
 *
 * Conventions (shared/reference/permutation.json):
 *  - exact: all assignments enumerated, the observed one included; p_two_sided = count_abs_ge / N with
 *    count_abs_ge = #{|T_a| ≥ |T_obs| − tol}, p_greater = #{T_a ≥ T_obs − tol}/N,
 *    p_less = #{T_a ≤ T_obs + tol}/N, tol = 1e-9·max(1, |T_obs|) (ties of floating sums);
 *  - Monte Carlo (more than `maxExact` assignments): B re-draws with the seeded PRNG,
 *    p = (1 + #{|T_b| ≥ |T_obs| − tol}) / (B + 1) — never 0 (pitfall P8); the counts reported are
 *    over the B draws (the observed assignment is the "+1");
 *  - `p_two_sided_doubled` = min(1, 2·min(p_greater, p_less)) is informational (scipy's definition);
 *  - `min_attainable_p`: the smallest two-sided p the design can produce (3 vs 3: 2/20 = 0.1 because
 *    an assignment and its mirror image give the same |T|); Monte Carlo: 1/(B + 1).
 *
 * THE API FOR REPORTS (design-aware; use this for every pilot):
 *
 *   const design = randomizationDesignForAssignment(assignment);   // src/assignment/design-plan.ts
 *   // (= randomizationDesignFromStored of ../design/designs over assignment.units, in their order)
 *   const r = await randomizationTestAsync({
 *     values, arms, treatmentArm, controlArm,        // values[i], arms[i] belong to units[i]
 *     design,                                          // re-draw from the ACTUAL design
 *     ci: { alpha },                                   // CI by test inversion (optional)
 *     maxExact, draws, seed,
 *   });
 *
 * With `design`: strata are the stored strata (region/team, the pair of a matched-pairs design, or
 * 'all'), each with its exact per-arm counts; forced territories never move; the rerandomization
 * acceptance rule (M ≤ a) and the treated-share cap are applied to every re-drawn assignment
 * (rejected ones are not in the reference set); territories in arms other than the two compared stay
 * in their arm (the test conditions on them, so it is valid under the sharp null of no difference
 * between these two arms only, as multi-arm comparisons against control need). For a matched-pairs
 * design the pairs are strata with one territory per arm, so the reference set is exactly the 2^k
 * sign flips of the pair differences. `min_attainable_p` is then computed from the data: the share
 * of reference assignments whose |T| equals the largest |T| (exact), or 1/(B + 1) (Monte Carlo).
 *
 * CI (`ci: { alpha }`): the set of constant additive effects τ (treatment value = control value + τ
 * for every territory of the two arms) that the same test does not reject at α:
 * {τ : p(τ) ≥ α}, where p(τ) is the randomization p of the outcomes y − τ·1[observed treatment]
 * (Imbens & Rubin 2015, §5.7). Because the difference in means is linear in the outcomes, the
 * statistic of assignment a is u_a − τ·v_a (u_a its statistic on y, v_a on the treatment indicator),
 * so each p(τ) costs one pass over stored (u_a, v_a) pairs; the bounds are found by doubling then
 * bisection to 1e-10 of the interval's scale. The interval contains 0 exactly when p ≥ α (if the
 * p-value function is not monotone, the interval is widened to keep that rule and `note` says so).
 * Status 'unbounded' (null bounds) when no τ is rejected: the design's smallest attainable p is ≥ α.
 *
 * Event loop: `randomizationTestAsync` yields to the event loop (setImmediate) at least every ~20 ms,
 * so a BullMQ worker keeps renewing its lock during long enumerations; `randomizationTest` is the
 * same computation synchronously (fine for small designs and tests).
 */
import type { RandomizationDesign } from './design/designs';
import { createPrng } from './design/prng';
import {
  countAssignments,
  DesignTemplate,
  designTemplateFromAssignment,
  drawFromDesign,
  enumerateAssignments,
} from './design/randomization';

/** Test statistic: overall difference in means, or the stratum-size-weighted difference. */
export type RandomizationStatistic = 'diff_in_means' | 'stratified_weighted';

/** Input of `randomizationTest`: one entry per territory in every array. */
export interface RandomizationTestInput {
  /** KPI value per territory; null = missing (keeps its place in the design) */
  values: readonly (number | null)[];
  /** arm key per territory as assigned (all arms of the design, not only the two compared) */
  arms: readonly string[];
  /** stratum per territory for a stratified design; omit for complete randomization */
  strata?: readonly string[];
  treatmentArm: string;
  controlArm: string;
  /** 'diff_in_means' (default): mean(T) − mean(C); 'stratified_weighted': Σ_s (n_s/N)(mean_Ts − mean_Cs) */
  statistic?: RandomizationStatistic;
  /** enumerate exactly when the design has at most this many assignments (default 100,000) */
  maxExact?: number;
  /** Monte Carlo draws B otherwise (default 10,000) */
  draws?: number;
  /** PRNG seed for Monte Carlo (integer 0..2^53 − 1, default 0); recorded in the result */
  seed?: number;
  /**
   * The actual design (`randomizationDesignFromStored`), over the same units in the same order as
   * `values`. When given, `strata` is ignored and the re-draws follow the design (see module doc).
   */
  design?: RandomizationDesign;
  /** compute the CI by test inversion at level 1 − alpha */
  ci?: { alpha: number };
  /** Monte Carlo with an acceptance rule: most draws tried before giving up (default 1000·B) */
  maxTries?: number;
  /** randomizationTestAsync: yield to the event loop once this many ms of work have passed (default 20) */
  yieldEveryMs?: number;
}

/** Confidence interval by inverting the randomization test over constant additive effects. */
export interface RandomizationCi {
  /** 1 − alpha */
  level: number;
  low: number | null;
  high: number | null;
  /** 'unbounded': no effect is rejected (smallest attainable p ≥ alpha); bounds null */
  status: 'ok' | 'unbounded';
  method: 'test inversion, constant additive effect';
  note: string | null;
}

/** Result of a randomization test. */
export interface RandomizationTestResult {
  method: 'exact' | 'monte_carlo';
  statistic: RandomizationStatistic | 'mean_paired_difference';
  /** exact number of assignments of the design, null when above Number.MAX_SAFE_INTEGER */
  n_assignments: number | null;
  /** Monte Carlo draws B (null for exact) */
  draws: number | null;
  seed: number | null;
  /** observed statistic (treatment − control); null when insufficient data */
  observed: number | null;
  count_abs_ge: number | null;
  count_ge: number | null;
  count_le: number | null;
  p_two_sided: number | null;
  p_greater: number | null;
  p_less: number | null;
  p_two_sided_doubled: number | null;
  min_attainable_p: number | null;
  /** assignments (or draws) where an arm had no observed value, excluded from the reference set */
  n_undefined: number;
  strata: { stratum: string; n: number; n_treated: number; n_control: number }[];
  status: 'ok' | 'insufficient_data';
  /** design-aware runs only: the design re-drawn from and its acceptance rule */
  design?: { type: string; strata: number; forced: number; acceptance: string | null; conditioned_on_other_arms: boolean };
  /** acceptance-rule designs: assignments enumerated/drawn that the rule rejected (not in the reference set) */
  n_rejected?: number;
  /** CI by test inversion (only when requested; null when the test had insufficient data) */
  ci?: RandomizationCi | null;
}

/** The result shell with every inferential field null and status 'insufficient_data'. */
function insufficientResult(
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

function validateBudget(maxExact: number, draws: number): void {
  if (!Number.isInteger(maxExact) || maxExact < 1) throw new RangeError(`maxExact must be a positive integer, got ${maxExact}`);
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError(`draws must be a positive integer, got ${draws}`);
}

interface Tally {
  countAbsGe: number;
  countGe: number;
  countLe: number;
  evaluated: number;
  undefinedCount: number;
}

/** Accumulates tie-tolerant comparisons of statistics against the observed one. */
function makeTally(observed: number): { tally: Tally; add: (t: number) => void } {
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

/**
 * Randomization (permutation) test of treatment vs control territories under the design that was
 * actually used: complete randomization, or stratified with each stratum's arm counts fixed.
 * Exact enumeration when the design has ≤ maxExact assignments, else Monte Carlo re-draws of the same
 * design. Statistic computed over territories with a non-null value; a territory with a missing value
 * keeps its place in the design (the sharp null fixes outcomes, missingness included). Assignments in
 * which treatment or control has no observed value have no statistic: they are left out of the
 * reference set and counted in `n_undefined`.
 *
 * Sources: Fisher (1935); Imbens & Rubin (2015) ch. 5; Monte Carlo p-value (1 + b)/(B + 1) from
 * Phipson & Smyth (2010); reference values: permutation.json (exact rational enumeration, scipy
 * permutation_test).
 *
 * @returns status 'insufficient_data' with null p-values when the observed treatment or control arm
 *   has no non-null value
 * @throws RangeError on mismatched lengths, unknown arms, non-finite values or invalid budgets;
 *   DesignError on an inconsistent design
 */
export function randomizationTest(input: RandomizationTestInput): RandomizationTestResult {
  const run = randomizationCore(input);
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
  }
}

/**
 * The same test as `randomizationTest`, yielding to the event loop (setImmediate) at least every
 * ~20 ms of work, so a queue worker keeps renewing its lock (BullMQ lockDuration) during long
 * enumerations or Monte Carlo runs. Same inputs ⇒ the identical result as the synchronous call.
 *
 * @throws the same errors as `randomizationTest`
 */
export async function randomizationTestAsync(input: RandomizationTestInput): Promise<RandomizationTestResult> {
  const run = randomizationCore(input);
  const every = input.yieldEveryMs ?? 20;
  let last = Date.now();
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
    if (Date.now() - last >= every) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = Date.now();
    }
  }
}

/** Assignments (or draws) between two yields of the core generator. */
const CHUNK = 2048;

/**
 * Restricts a design to the two compared arms: within each stratum, territories of other arms are
 * held in their observed arm (each becomes a singleton stratum), so only treatment and control
 * labels are permuted among their own places.
 */
function conditionOnComparedArms(template: DesignTemplate, observed: Uint8Array, tIdx: number, cIdx: number): { template: DesignTemplate; conditioned: boolean } {
  let conditioned = false;
  const strata: DesignTemplate['strata'] = [];
  for (const s of template.strata) {
    const free: number[] = [];
    const counts = new Array<number>(template.arms.length).fill(0);
    for (const u of s.units) {
      const a = observed[u];
      if (a === tIdx || a === cIdx) {
        free.push(u);
        counts[a]++;
      } else {
        conditioned = true;
        const single = new Array<number>(template.arms.length).fill(0);
        single[a] = 1;
        strata.push({ stratum: `${s.stratum}:fixed:${u}`, units: [u], counts: single });
      }
    }
    if (free.length) strata.push({ stratum: s.stratum, units: free, counts });
  }
  return { template: { arms: template.arms, n_units: template.n_units, strata }, conditioned };
}

function* randomizationCore(input: RandomizationTestInput): Generator<void, RandomizationTestResult, undefined> {
  const { values, arms, strata, treatmentArm, controlArm } = input;
  const statistic = input.statistic ?? 'diff_in_means';
  const maxExact = input.maxExact ?? 100_000;
  const draws = input.draws ?? 10_000;
  const seed = input.seed ?? 0;
  validateBudget(maxExact, draws);
  const n = values.length;
  if (arms.length !== n) throw new RangeError(`got ${n} values but ${arms.length} arms`);
  if (strata && strata.length !== n) throw new RangeError(`got ${n} values but ${strata.length} strata`);
  if (treatmentArm === controlArm) throw new RangeError('treatmentArm and controlArm must differ');
  for (const v of values) {
    if (v !== null && !Number.isFinite(v)) throw new RangeError(`values must be finite numbers or null, got ${v}`);
  }
  if (input.ci && !(input.ci.alpha > 0 && input.ci.alpha < 1)) throw new RangeError(`ci.alpha must be in (0, 1), got ${input.ci.alpha}`);
  const designAware = input.design !== undefined;
  let template: DesignTemplate;
  let accept: ((labels: Uint8Array) => boolean) | null = null;
  let conditioned = false;
  const observedLabels = new Uint8Array(n);
  if (input.design) {
    const d = input.design;
    if (d.template.n_units !== n) throw new RangeError(`the design has ${d.template.n_units} units but ${n} values were given`);
    for (let i = 0; i < n; i++) {
      const a = d.template.arms.indexOf(arms[i]);
      if (a < 0) throw new RangeError(`unit ${i} has arm '${arms[i]}', which is not in the design`);
      observedLabels[i] = a;
    }
    const tI = d.template.arms.indexOf(treatmentArm);
    const cI = d.template.arms.indexOf(controlArm);
    if (tI < 0 || cI < 0) throw new RangeError(`the design has no arm '${tI < 0 ? treatmentArm : controlArm}'`);
    const restricted = conditionOnComparedArms(d.template, observedLabels, tI, cI);
    template = restricted.template;
    conditioned = restricted.conditioned;
    accept = d.accept;
  } else {
    template = designTemplateFromAssignment(arms, strata);
    for (let i = 0; i < n; i++) observedLabels[i] = template.arms.indexOf(arms[i]);
  }
  const tIdx = template.arms.indexOf(treatmentArm);
  const cIdx = template.arms.indexOf(controlArm);
  const strataSummary = (designAware ? (input.design as RandomizationDesign).template : template).strata.map((s) => ({
    stratum: s.stratum,
    n: s.units.length,
    n_treated: tIdx >= 0 ? s.counts[tIdx] : 0,
    n_control: cIdx >= 0 ? s.counts[cIdx] : 0,
  }));
  const total = countAssignments(template);
  const nAssignments = total.capped ? null : total.count;
  const exact = !total.capped && total.count <= maxExact;

  // v_a: the same statistic on the observed-treatment indicator (for the CI by test inversion),
  // computed in the same pass over the units as u_a (the statistic itself)
  const wantCi = input.ci !== undefined;
  const indicator = wantCi ? Float64Array.from(observedLabels, (l) => (l === tIdx ? 1 : 0)) : null;
  const vOut = new Float64Array(1);
  const stat = makeStatistic(values, template, tIdx, cIdx, statistic, indicator, vOut);
  const observed = tIdx < 0 || cIdx < 0 ? NaN : stat(observedLabels);

  const empty = insufficientResult(exact ? 'exact' : 'monte_carlo', statistic, nAssignments, strataSummary);
  if (designAware) {
    const d = (input.design as RandomizationDesign).description;
    empty.design = { type: d.type, strata: d.strata, forced: d.forced, acceptance: d.acceptance, conditioned_on_other_arms: conditioned };
    if (accept) empty.n_rejected = 0;
  }
  if (input.ci) empty.ci = null;
  if (Number.isNaN(observed)) return empty;

  let us: Float64Array = new Float64Array(wantCi ? Math.min(1 << 16, exact ? total.count : draws) : 0);
  let vs: Float64Array = new Float64Array(us.length);
  let stored = 0;
  const keep = (u: number): void => {
    if (!wantCi || Number.isNaN(u)) return;
    if (stored === us.length) {
      const bigger = new Float64Array(us.length * 2);
      bigger.set(us);
      us = bigger;
      const biggerV = new Float64Array(vs.length * 2);
      biggerV.set(vs);
      vs = biggerV;
    }
    us[stored] = u;
    vs[stored] = vOut[0];
    stored++;
  };

  const { tally, add } = makeTally(observed);
  // largest |T| in the reference set and how many assignments reach it (data-based floor of p)
  let maxAbs = -1;
  let atMax = 0;
  const track = (t: number): void => {
    if (Number.isNaN(t)) return;
    const a = Math.abs(t);
    const tol = 1e-9 * Math.max(1, a);
    if (a > maxAbs + tol) {
      maxAbs = a;
      atMax = 1;
    } else if (a >= maxAbs - tol) atMax++;
  };
  let rejected = 0;
  let result: RandomizationTestResult;
  if (exact) {
    let k = 0;
    for (const labels of enumerateAssignments(template)) {
      if (++k % CHUNK === 0) yield;
      if (accept && !accept(labels)) {
        rejected++;
        continue;
      }
      const t = stat(labels);
      add(t);
      track(t);
      keep(t);
    }
    const N = tally.evaluated;
    let floor: number;
    if (designAware) floor = atMax / Math.max(1, N);
    else {
      const symmetric = template.strata.every((s) => s.counts[tIdx] === s.counts[cIdx]);
      floor = (symmetric ? 2 : 1) / N;
    }
    result = finish(empty, observed, tally, N, 0, { draws: null, seed: null, min_attainable_p: Math.min(1, floor) });
    if (accept) result.n_assignments = N + tally.undefinedCount;
  } else {
    const rng = createPrng(seed);
    const buffer = new Uint8Array(n);
    const maxTries = input.maxTries ?? draws * 1000;
    let tries = 0;
    let b = 0;
    while (b < draws && tries < maxTries) {
      tries++;
      if (tries % CHUNK === 0) yield;
      drawFromDesign(template, rng, buffer);
      if (accept && !accept(buffer)) {
        rejected++;
        continue;
      }
      b++;
      const t = stat(buffer);
      add(t);
      keep(t);
    }
    result = finish(empty, observed, tally, tally.evaluated + 1, 1, { draws: b, seed, min_attainable_p: 1 / (b + 1) });
    if (accept) result.n_assignments = null;
  }
  if (accept) result.n_rejected = rejected;
  if (wantCi) {
    yield;
    result.ci = invertTest(us.subarray(0, stored), vs.subarray(0, stored), observed, exact ? 0 : 1, result.p_two_sided as number, (input.ci as { alpha: number }).alpha);
  }
  return result;
}

/**
 * CI by test inversion over constant additive effects (see module doc): p(τ) over the stored
 * reference statistics u_a and v_a, bounds by doubling then bisection.
 */
function invertTest(u: Float64Array, v: Float64Array, observed: number, plusOne: number, p0: number, alpha: number): RandomizationCi {
  const m = u.length;
  const denominator = m + plusOne;
  const pAt = (tau: number): number => {
    const obs = Math.abs(observed - tau);
    const tol = 1e-9 * Math.max(1, obs);
    let c = plusOne;
    for (let i = 0; i < m; i++) if (Math.abs(u[i] - tau * v[i]) >= obs - tol) c++;
    return Math.min(1, c / denominator);
  };
  let scale = Math.abs(observed);
  for (let i = 0; i < m; i++) scale = Math.max(scale, Math.abs(u[i]));
  if (!(scale > 0)) scale = 1;
  const bound = (direction: -1 | 1): number | null => {
    let inner = observed;
    let h = scale;
    let outer = observed + direction * h;
    let steps = 0;
    while (pAt(outer) >= alpha) {
      inner = outer;
      h *= 2;
      outer = observed + direction * h;
      if (++steps > 60) return null;
    }
    for (let i = 0; i < 200 && Math.abs(outer - inner) > 1e-10 * scale; i++) {
      const mid = (inner + outer) / 2;
      if (pAt(mid) >= alpha) inner = mid;
      else outer = mid;
    }
    return inner;
  };
  const base = { level: 1 - alpha, method: 'test inversion, constant additive effect' as const };
  let low = bound(-1);
  let high = bound(1);
  if (low === null || high === null) return { ...base, low: null, high: null, status: 'unbounded', note: 'no constant effect is rejected: the smallest attainable p is at least alpha' };
  let note: string | null = null;
  if (p0 >= alpha && (low > 0 || high < 0)) {
    low = Math.min(low, 0);
    high = Math.max(high, 0);
    note = 'the p-value function is not monotone in the effect; the interval was widened to contain 0 because p ≥ alpha';
  } else if (p0 < alpha && low <= 0 && high >= 0) {
    note = 'the p-value function is not monotone in the effect: p < alpha but the interval reaches 0';
  }
  return { ...base, low, high, status: 'ok', note };
}

function finish(
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

/**
 * Builds a fast statistic over arm-label vectors (no allocation per call; NaN when undefined).
 * With `indicator` (one entry per unit), each call also writes to `vOut[0]` the same statistic of
 * the indicator over the same observed units (the v_a of the CI), in the same pass and with the
 * same arithmetic as a separate call would use.
 */
function makeStatistic(
  values: readonly (number | null)[],
  template: DesignTemplate,
  tIdx: number,
  cIdx: number,
  statistic: RandomizationStatistic,
  indicator: Float64Array | null = null,
  vOut: Float64Array = new Float64Array(1),
): (labels: Uint8Array) => number {
  const n = values.length;
  const observedUnits: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null) {
      observedUnits.push(i);
      vals.push(v);
    }
  }
  const idx = Int32Array.from(observedUnits);
  const val = Float64Array.from(vals);
  const m = idx.length;
  const ind = indicator ? Float64Array.from(idx, (u) => indicator[u]) : null;
  if (statistic === 'diff_in_means' && ind) {
    return (labels) => {
      let sumT = 0;
      let sumC = 0;
      let wT = 0;
      let wC = 0;
      let nT = 0;
      let nC = 0;
      for (let k = 0; k < m; k++) {
        const l = labels[idx[k]];
        if (l === tIdx) {
          sumT += val[k];
          wT += ind[k];
          nT++;
        } else if (l === cIdx) {
          sumC += val[k];
          wC += ind[k];
          nC++;
        }
      }
      if (nT > 0 && nC > 0) {
        vOut[0] = wT / nT - wC / nC;
        return sumT / nT - sumC / nC;
      }
      vOut[0] = NaN;
      return NaN;
    };
  }
  if (statistic === 'diff_in_means') {
    return (labels) => {
      let sumT = 0;
      let sumC = 0;
      let nT = 0;
      let nC = 0;
      for (let k = 0; k < m; k++) {
        const l = labels[idx[k]];
        if (l === tIdx) {
          sumT += val[k];
          nT++;
        } else if (l === cIdx) {
          sumC += val[k];
          nC++;
        }
      }
      return nT > 0 && nC > 0 ? sumT / nT - sumC / nC : NaN;
    };
  }
  const S = template.strata.length;
  const stratumOf = new Int32Array(n);
  template.strata.forEach((s, si) => {
    for (const u of s.units) stratumOf[u] = si;
  });
  const sumT = new Float64Array(S);
  const sumC = new Float64Array(S);
  const wT = new Float64Array(S);
  const wC = new Float64Array(S);
  const nT = new Int32Array(S);
  const nC = new Int32Array(S);
  return (labels) => {
    sumT.fill(0);
    sumC.fill(0);
    nT.fill(0);
    nC.fill(0);
    if (ind) {
      wT.fill(0);
      wC.fill(0);
    }
    for (let k = 0; k < m; k++) {
      const u = idx[k];
      const l = labels[u];
      const s = stratumOf[u];
      if (l === tIdx) {
        sumT[s] += val[k];
        if (ind) wT[s] += ind[k];
        nT[s]++;
      } else if (l === cIdx) {
        sumC[s] += val[k];
        if (ind) wC[s] += ind[k];
        nC[s]++;
      }
    }
    vOut[0] = NaN;
    let total = 0;
    for (let s = 0; s < S; s++) total += nT[s] + nC[s];
    let t = 0;
    let v = 0;
    for (let s = 0; s < S; s++) {
      const size = nT[s] + nC[s];
      if (size === 0) continue; // a stratum without compared units carries no weight
      if (nT[s] === 0 || nC[s] === 0) return NaN;
      t += (size / total) * (sumT[s] / nT[s] - sumC[s] / nC[s]);
      if (ind) v += (size / total) * (wT[s] / nT[s] - wC[s] / nC[s]);
    }
    if (total > 0) vOut[0] = v;
    return total > 0 ? t : NaN;
  };
}

/** Input of `pairedRandomizationTest`: matched pairs, one treatment and one control territory each. */
export interface PairedRandomizationTestInput {
  /** KPI of the treated territory of each pair (null = missing: the pair is left out) */
  treatment: readonly (number | null)[];
  /** KPI of the control territory of each pair, same order */
  control: readonly (number | null)[];
  maxExact?: number;
  draws?: number;
  seed?: number;
}

/**
 * Sign-flip randomization test for matched pairs: d_i = treatment_i − control_i, T = mean(d), and
 * under the design each pair's assignment is flipped independently, so the reference set is the 2^k
 * sign vectors (T_s = mean(s_i d_i); zero differences included). Exact when 2^k ≤ maxExact, else
 * Monte Carlo with random signs and p = (1 + b)/(B + 1). Pairs with a missing value have no
 * difference under any flip and are left out. min_attainable_p = 2/2^k (a sign vector and its
 * negation give the same |T|).
 *
 * Sources: Fisher (1935) sign-flip test; Imbens & Rubin (2015) §5.x paired designs; reference values
 * permutation.json (pairs_* cases).
 *
 * @returns status 'insufficient_data' when no pair has both values
 * @throws RangeError on mismatched lengths, non-finite values or invalid budgets
 */
export function pairedRandomizationTest(input: PairedRandomizationTestInput): RandomizationTestResult {
  const maxExact = input.maxExact ?? 100_000;
  const draws = input.draws ?? 10_000;
  const seed = input.seed ?? 0;
  validateBudget(maxExact, draws);
  if (input.treatment.length !== input.control.length) {
    throw new RangeError(`got ${input.treatment.length} treatment and ${input.control.length} control values`);
  }
  const diffs: number[] = [];
  input.treatment.forEach((t, i) => {
    const c = input.control[i];
    for (const v of [t, c]) {
      if (v !== null && !Number.isFinite(v)) throw new RangeError(`values must be finite numbers or null, got ${v}`);
    }
    if (t !== null && c !== null) diffs.push(t - c);
  });
  const k = diffs.length;
  const d = Float64Array.from(diffs);
  const exactCount = 2 ** k;
  const capped = exactCount > Number.MAX_SAFE_INTEGER;
  // exact enumeration uses 32-bit masks: at most 2^30 sign vectors
  const base = insufficientResult(
    !capped && exactCount <= maxExact && k <= 30 ? 'exact' : 'monte_carlo',
    'mean_paired_difference',
    capped ? null : exactCount,
    [],
  );
  if (k === 0) return base;
  let sum = 0;
  for (let i = 0; i < k; i++) sum += d[i];
  const observed = sum / k;
  const { tally, add } = makeTally(observed);
  if (base.method === 'exact') {
    for (let mask = 0; mask < exactCount; mask++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += (mask >>> i) & 1 ? -d[i] : d[i];
      add(s / k);
    }
    return finish(base, observed, tally, exactCount, 0, { draws: null, seed: null, min_attainable_p: 2 / exactCount });
  }
  const rng = createPrng(seed);
  for (let b = 0; b < draws; b++) {
    let s = 0;
    let bits = 0;
    for (let i = 0; i < k; i++) {
      if ((i & 31) === 0) bits = rng.nextUint32();
      s += (bits >>> (i & 31)) & 1 ? -d[i] : d[i];
    }
    add(s / k);
  }
  return finish(base, observed, tally, draws + 1, 1, { draws, seed, min_attainable_p: 1 / (draws + 1) });
}
