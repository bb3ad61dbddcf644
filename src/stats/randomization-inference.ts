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
 * Without `design` (e.g. a stored design that cannot be replayed), the reference set is the observed
 * assignment's strata with their arm counts fixed, and territories of other arms stay in their arm
 * too (`observed_design.conditioned_on_other_arms`).
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
 *
 * Modules: this file holds the public types and entry points; randomization-core.ts the run
 * (validation, phases), randomization-reference-set.ts the design re-drawn from and the exact /
 * Monte Carlo passes over its assignments, randomization-statistic.ts the statistic per assignment,
 * randomization-p-values.ts the counts and p-values, randomization-test-inversion.ts the CI.
 */
import type { RandomizationDesign } from './design/designs';
import { createPrng } from './design/prng';
import { randomizationCore } from './randomization-core';
import { finish, insufficientResult, makeTally, validateBudget } from './randomization-p-values';

/**
 * Test statistic: overall difference in means, the stratum-size-weighted difference, or Lin's (2013)
 * interacted covariate-adjusted difference re-estimated on every assignment ('lin_adjusted', needs
 * `covariate`).
 */
export type RandomizationStatistic = 'diff_in_means' | 'stratified_weighted' | 'lin_adjusted';

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
  /**
   * 'lin_adjusted' only: the covariate per territory (e.g. the pre-period KPI; null = missing, imputed
   * by the mean of the compared territories' observed covariate, so the unit keeps its outcome)
   */
  covariate?: readonly (number | null)[];
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
  /** 'unbounded': no effect is rejected on one side (that bound null; both null when the smallest attainable p ≥ alpha) */
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
  /**
   * runs without a stored design only: re-drawn from the observed assignment, within its strata with
   * each stratum's arm counts fixed and the territories of other arms held in their arm
   */
  observed_design?: { strata: number; conditioned_on_other_arms: boolean };
  /** acceptance-rule designs: assignments enumerated/drawn that the rule rejected (not in the reference set) */
  n_rejected?: number;
  /** CI by test inversion (only when requested; null when the test had insufficient data) */
  ci?: RandomizationCi | null;
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
 * d_i = treatment_i − control_i over the pairs with both values, in pair order.
 * @throws RangeError on mismatched lengths or a non-finite value
 */
function pairDifferences(treatment: readonly (number | null)[], control: readonly (number | null)[]): Float64Array {
  if (treatment.length !== control.length) {
    throw new RangeError(`got ${treatment.length} treatment and ${control.length} control values`);
  }
  const diffs: number[] = [];
  treatment.forEach((t, i) => {
    const c = control[i];
    for (const v of [t, c]) {
      if (v !== null && !Number.isFinite(v)) throw new RangeError(`values must be finite numbers or null, got ${v}`);
    }
    if (t !== null && c !== null) diffs.push(t - c);
  });
  return Float64Array.from(diffs);
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
  const d = pairDifferences(input.treatment, input.control);
  const k = d.length;
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
