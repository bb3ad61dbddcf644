/**
 * The deciding test of a planner placebo pilot (issue 14: "the planner's claims hold"): the method
 * the report would decide with for this design and size (`recommendedPrimaryMethod`, calibration
 * flags applied), run the way the report runs it, on a drawn placebo pilot at any planted lift.
 *
 *  - randomization inference (`randomization_inference_cuped`: statistic 'lin_adjusted' on the
 *    pre-period KPI; `randomization_inference`: 'diff_in_means'), re-drawing assignments from the
 *    ACTUAL design of the pilot (`randomizationDesignFromStored`: the strata, the pairs, the
 *    rerandomization acceptance rule with the threshold the draw recorded), exact when the design has
 *    at most `maxExact` assignments, else B Monte Carlo re-draws, p = (1 + #{|T_b| ≥ |T_obs|})/(B + 1);
 *  - `lin_regression_hc2` (above RI_MAX_TERRITORIES): Lin's regression adjustment, HC2, n − k df.
 *
 * Fast and exact at every lift: with the lift ℓ planted multiplicatively on the observed treated
 * territories, y_ℓ = y + ℓ·(y∘T_obs), and each statistic is linear in the values for a fixed
 * assignment a (the difference in means; Lin's τ̂ is a fixed linear combination of the values once
 * the assignment and the covariate are fixed), so T_a(y_ℓ) = u_a + ℓ·s_a with u_a = T_a(y) and
 * s_a = T_a(y∘T_obs). The reference set is drawn ONCE per pilot and (u_a, s_a) stored; p(ℓ) is then
 * one pass over the stored pairs, the identical p that `randomizationTest` gives on y_ℓ with the same
 * draws and seed (tested in planner-deciding-test.spec.ts). The only difference from the report is
 * the Monte Carlo budget: B = `PLANNER_RI_DRAWS` (199) instead of RI_DRAWS (10,000), which lowers
 * power slightly (a Monte Carlo p with B draws rejects less often near α); the planner's stated and
 * realised powers use the same B, and the report's test, with more draws, has at least this power
 * in expectation up to Monte Carlo error of the p-value.
 *
 * Sources: Imbens & Rubin (2015) ch. 5 (randomization inference, test inversion by linearity §5.7);
 * Lin (2013); Phipson & Smyth (2010) for (1 + b)/(B + 1).
 */
import { linRegressionAdjustment } from '../stats/covariate-adjustment';
import { countAssignments } from '../stats/design/randomization';
import type { RandomizationDesign } from '../stats/design/designs';
import { PrimaryMethodKey, recommendedPrimaryMethod } from '../stats/primary-method';
import type { RandomizationStatistic } from '../stats/randomization-inference';
import { enumerateReferenceSet, referenceDesignFromStored, sampleReferenceSet } from '../stats/randomization-reference-set';
import { makeStatistic } from '../stats/randomization-statistic';

/** Monte Carlo re-draws per placebo pilot (the report uses RI_DRAWS = 10,000; see the module doc). */
export const PLANNER_RI_DRAWS = 199;

/** Largest design enumerated exactly by the planner (else Monte Carlo with PLANNER_RI_DRAWS draws, which is then cheaper). */
export const PLANNER_MAX_EXACT = PLANNER_RI_DRAWS + 1;

/** One placebo pilot as the deciding test reads it (compared territories only, in one order). */
export interface DecidingPilot {
  y: readonly number[];
  x: readonly (number | null)[];
  treated: readonly (0 | 1)[];
  /** the randomization design the pilot was drawn from, over the same territories in the same order */
  design: RandomizationDesign;
}

/** The deciding test of one pilot, ready to give its p at any planted lift. */
export interface DecidingTest {
  method: PrimaryMethodKey;
  /** the randomization statistic (null for lin_regression_hc2) */
  statistic: RandomizationStatistic | null;
  /** two-sided p with the relative lift `lift` planted on the treated territories; null when undefined */
  pAt: (lift: number) => number | null;
}

/** The deciding test in words, as a planner cell names it. */
export function decidingTestLabel(designType: string, test: Pick<DecidingTest, 'method' | 'statistic'>, draws = PLANNER_RI_DRAWS): string {
  if (test.statistic === null) return "Lin's regression adjustment on the pre-period KPI, HC2, n − k df";
  const reference =
    designType === 'matched_pairs' ? 'sign flips within the pairs' : designType === 'stratified' ? 're-draws within the strata' : designType === 'rerandomization' ? 're-draws under the acceptance rule' : 're-draws of the complete design';
  const on = test.statistic === 'lin_adjusted' ? "Lin's interacted adjustment for the pre-period KPI" : 'the unadjusted difference in means';
  return `randomization inference (${reference}, B = ${draws}) on ${on}`;
}

/** Whether the pre-period KPI can serve as covariate: some territory has it and it varies. */
export function preperiodUsable(x: readonly (number | null)[]): boolean {
  const seen = x.filter((v): v is number => v !== null);
  return seen.length > 0 && seen.some((v) => v !== seen[0]);
}

/**
 * Builds the deciding test of a placebo pilot (see the module doc): the method from
 * `recommendedPrimaryMethod(designType, n, preperiodUsable)`, the reference set drawn once.
 * @param designType the pilot's design type; @param seed Monte Carlo seed
 * @param opts.draws B (default PLANNER_RI_DRAWS); opts.maxExact enumeration limit (default PLANNER_MAX_EXACT)
 * @throws RangeError on mismatched lengths
 */
export function decidingTest(designType: string, pilot: DecidingPilot, seed: number, opts: { draws?: number; maxExact?: number; alpha?: number } = {}): DecidingTest {
  const n = pilot.y.length;
  if (pilot.x.length !== n || pilot.treated.length !== n || pilot.design.template.n_units !== n) throw new RangeError('y, x, treated and the design must cover the same territories');
  const usable = preperiodUsable(pilot.x);
  const method = recommendedPrimaryMethod(designType, n, usable).key;
  if (method === 'lin_regression_hc2' || method === 'synthetic_did_placebo') {
    return {
      method,
      statistic: null,
      pAt: (lift) => linRegressionAdjustment(pilot.y.map((v, j) => (pilot.treated[j] ? v * (1 + lift) : v)), pilot.x, pilot.treated, { alpha: opts.alpha ?? 0.05 }).p_value,
    };
  }
  const statistic: RandomizationStatistic = method === 'randomization_inference_cuped' ? 'lin_adjusted' : 'diff_in_means';
  const arms = pilot.treated.map((t) => (t ? 'treatment' : 'control'));
  const reference = referenceDesignFromStored(pilot.design, arms, 'treatment', 'control');
  const { template, accept, observedLabels } = reference;
  const tIdx = template.arms.indexOf('treatment');
  const cIdx = template.arms.indexOf('control');
  const lifted = Float64Array.from(pilot.y, (v, j) => (pilot.treated[j] ? v : 0));
  const sOut = new Float64Array(1);
  const stat = makeStatistic(pilot.y, template, tIdx, cIdx, statistic, lifted, sOut, statistic === 'lin_adjusted' ? pilot.x : null);
  const uObs = stat(observedLabels);
  const sObs = sOut[0];
  const u: number[] = [];
  const s: number[] = [];
  const record = (labels: Uint8Array) => {
    const t = stat(labels);
    if (Number.isNaN(t)) return;
    u.push(t);
    s.push(sOut[0]);
  };
  const total = countAssignments(template);
  const exact = !total.capped && total.count <= (opts.maxExact ?? PLANNER_MAX_EXACT);
  const draws = opts.draws ?? PLANNER_RI_DRAWS;
  const pass = exact ? enumerateReferenceSet(template, accept, record) : sampleReferenceSet(template, accept, { draws, maxTries: 1000 * draws, seed }, record);
  for (let step = pass.next(); !step.done; step = pass.next());
  const plus = exact ? 0 : 1;
  return {
    method,
    statistic,
    pAt: (lift) => {
      const obs = uObs + lift * sObs;
      if (!Number.isFinite(obs) || u.length === 0) return null;
      // the tie tolerance of makeTally (randomization-p-values.ts)
      const bound = Math.abs(obs) - 1e-9 * Math.max(1, Math.abs(obs));
      let count = 0;
      for (let a = 0; a < u.length; a++) if (Math.abs(u[a] + lift * s[a]) >= bound) count++;
      return (count + plus) / (u.length + plus);
    },
  };
}
