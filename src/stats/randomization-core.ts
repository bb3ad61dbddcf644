/**
 * The computation behind `randomizationTest` and `randomizationTestAsync` (randomization-inference.ts,
 * whose header states the conventions): input validation, the reference design, the observed
 * statistic, the exact or Monte Carlo pass over the reference set, the p-values and the CI by test
 * inversion. One generator that yields between chunks of assignments, so the synchronous and the
 * asynchronous entry points run the identical computation.
 */
import { countAssignments, DesignTemplate } from './design/randomization';
import type { RandomizationStatistic, RandomizationTestInput, RandomizationTestResult } from './randomization-inference';
import { finish, insufficientResult, makeMaxAbsTracker, makeTally, MaxAbsState, Tally, validateBudget } from './randomization-p-values';
import {
  enumerateReferenceSet,
  MonteCarloBudget,
  ReferenceDesign,
  referenceDesignFromAssignment,
  referenceDesignFromStored,
  sampleReferenceSet,
} from './randomization-reference-set';
import { AssignmentStatistic, makeStatistic } from './randomization-statistic';
import { invertTest, makeReferenceStore, ReferenceStore } from './randomization-test-inversion';

/** The run settings of a randomization test, defaults applied. */
interface TestSettings {
  statistic: RandomizationStatistic;
  maxExact: number;
  draws: number;
  seed: number;
}

/**
 * Validates a test input and applies the defaults (diff_in_means, maxExact 100,000, 10,000 draws,
 * seed 0).
 *
 * @throws RangeError on an invalid budget, mismatched lengths, equal compared arms, non-finite
 *   values or ci.alpha outside (0, 1)
 */
function validateTestInput(input: RandomizationTestInput): TestSettings {
  const { values, arms, strata, treatmentArm, controlArm } = input;
  const settings: TestSettings = {
    statistic: input.statistic ?? 'diff_in_means',
    maxExact: input.maxExact ?? 100_000,
    draws: input.draws ?? 10_000,
    seed: input.seed ?? 0,
  };
  validateBudget(settings.maxExact, settings.draws);
  const n = values.length;
  if (arms.length !== n) throw new RangeError(`got ${n} values but ${arms.length} arms`);
  if (strata && strata.length !== n) throw new RangeError(`got ${n} values but ${strata.length} strata`);
  if (treatmentArm === controlArm) throw new RangeError('treatmentArm and controlArm must differ');
  for (const v of values) {
    if (v !== null && !Number.isFinite(v)) throw new RangeError(`values must be finite numbers or null, got ${v}`);
  }
  if (settings.statistic === 'lin_adjusted') {
    if (!input.covariate || input.covariate.length !== n) throw new RangeError(`statistic 'lin_adjusted' needs a covariate per value (${n})`);
    for (const v of input.covariate) {
      if (v !== null && !Number.isFinite(v)) throw new RangeError(`covariate values must be finite numbers or null, got ${v}`);
    }
  }
  if (input.ci && !(input.ci.alpha > 0 && input.ci.alpha < 1)) throw new RangeError(`ci.alpha must be in (0, 1), got ${input.ci.alpha}`);
  return settings;
}

/** Territories, treated and control per stratum of `template` (labels tIdx, cIdx; −1 = absent arm). */
function summarizeStrata(template: DesignTemplate, tIdx: number, cIdx: number): RandomizationTestResult['strata'] {
  return template.strata.map((s) => ({
    stratum: s.stratum,
    n: s.units.length,
    n_treated: tIdx >= 0 ? s.counts[tIdx] : 0,
    n_control: cIdx >= 0 ? s.counts[cIdx] : 0,
  }));
}

/**
 * The result shell of a run (status 'insufficient_data'), with the design description, n_rejected
 * and ci fields the run will report.
 */
function resultShell(
  input: RandomizationTestInput,
  reference: ReferenceDesign,
  method: RandomizationTestResult['method'],
  statistic: RandomizationStatistic,
  nAssignments: number | null,
  strata: RandomizationTestResult['strata'],
): RandomizationTestResult {
  const shell = insufficientResult(method, statistic, nAssignments, strata);
  if (input.design) {
    const d = input.design.description;
    shell.design = { type: d.type, strata: d.strata, forced: d.forced, acceptance: d.acceptance, conditioned_on_other_arms: reference.conditioned };
    if (reference.accept) shell.n_rejected = 0;
  } else {
    shell.observed_design = { strata: reference.strataTemplate.strata.length, conditioned_on_other_arms: reference.conditioned };
  }
  if (input.ci) shell.ci = null;
  return shell;
}

/**
 * min_attainable_p of an exact run: design-aware, the share of reference assignments whose |T| is
 * the largest |T|; otherwise 2/N when every stratum has as many treated as control territories (an
 * assignment and its mirror image give the same |T|), else 1/N. Capped at 1.
 */
function exactMinAttainableP(designAware: boolean, maxAbs: MaxAbsState, N: number, template: DesignTemplate, tIdx: number, cIdx: number): number {
  let floor: number;
  if (designAware) floor = maxAbs.atMax / Math.max(1, N);
  else {
    const symmetric = template.strata.every((s) => s.counts[tIdx] === s.counts[cIdx]);
    floor = (symmetric ? 2 : 1) / N;
  }
  return Math.min(1, floor);
}

/**
 * A run once the observed statistic is known: what each pass over the reference set needs.
 * `record` computes the statistic of one reference assignment and counts it (tally, CI store).
 */
interface ReferenceRun {
  template: DesignTemplate;
  accept: ReferenceDesign['accept'];
  stat: AssignmentStatistic;
  observed: number;
  /** the result shell to complete */
  empty: RandomizationTestResult;
  tally: Tally;
  add: (t: number) => void;
  /** (u_a, v_a) pairs for the CI, or null when no CI is wanted */
  store: ReferenceStore | null;
}

/** Exact phase: every assignment scored, p = count / N (N = defined statistics of accepted assignments). */
function* exactRun(run: ReferenceRun, designAware: boolean, tIdx: number, cIdx: number): Generator<void, RandomizationTestResult, undefined> {
  const { stat, add, store, tally } = run;
  const maxAbs = makeMaxAbsTracker();
  const rejected = yield* enumerateReferenceSet(run.template, run.accept, (labels) => {
    const t = stat(labels);
    add(t);
    maxAbs.track(t);
    store?.keep(t);
  });
  const N = tally.evaluated;
  const minAttainableP = exactMinAttainableP(designAware, maxAbs.state, N, run.template, tIdx, cIdx);
  const result = finish(run.empty, run.observed, tally, N, 0, { draws: null, seed: null, min_attainable_p: minAttainableP });
  if (run.accept) {
    result.n_assignments = N + tally.undefinedCount;
    result.n_rejected = rejected;
  }
  return result;
}

/** Monte Carlo phase: B accepted re-draws scored, p = (1 + count) / (B + 1). */
function* monteCarloRun(run: ReferenceRun, budget: MonteCarloBudget): Generator<void, RandomizationTestResult, undefined> {
  const { stat, add, store, tally } = run;
  const pass = yield* sampleReferenceSet(run.template, run.accept, budget, (labels) => {
    const t = stat(labels);
    add(t);
    store?.keep(t);
  });
  const extra = { draws: pass.draws, seed: budget.seed, min_attainable_p: 1 / (pass.draws + 1) };
  const result = finish(run.empty, run.observed, tally, tally.evaluated + 1, 1, extra);
  if (run.accept) {
    result.n_assignments = null;
    result.n_rejected = pass.rejected;
  }
  return result;
}

/**
 * The randomization test itself (see randomization-inference.ts): validation, reference design,
 * observed statistic, exact or Monte Carlo phase, CI by test inversion. Yields between chunks of
 * assignments; returns the result.
 */
export function* randomizationCore(input: RandomizationTestInput): Generator<void, RandomizationTestResult, undefined> {
  const { values, arms, strata, treatmentArm, controlArm } = input;
  const { statistic, maxExact, draws, seed } = validateTestInput(input);
  const reference = input.design
    ? referenceDesignFromStored(input.design, arms, treatmentArm, controlArm)
    : referenceDesignFromAssignment(arms, strata, treatmentArm, controlArm);
  const { template, accept, observedLabels } = reference;
  const tIdx = template.arms.indexOf(treatmentArm);
  const cIdx = template.arms.indexOf(controlArm);
  const strataSummary = summarizeStrata(reference.strataTemplate, tIdx, cIdx);
  const total = countAssignments(template);
  const nAssignments = total.capped ? null : total.count;
  const exact = !total.capped && total.count <= maxExact;

  // v_a: the same statistic on the observed-treatment indicator (for the CI by test inversion),
  // computed in the same pass over the units as u_a (the statistic itself)
  const wantCi = input.ci !== undefined;
  const indicator = wantCi ? Float64Array.from(observedLabels, (l) => (l === tIdx ? 1 : 0)) : null;
  const vOut = new Float64Array(1);
  const stat = makeStatistic(values, template, tIdx, cIdx, statistic, indicator, vOut, input.covariate ?? null);
  const observed = tIdx < 0 || cIdx < 0 ? NaN : stat(observedLabels);

  const empty = resultShell(input, reference, exact ? 'exact' : 'monte_carlo', statistic, nAssignments, strataSummary);
  if (Number.isNaN(observed)) return empty;

  const store = wantCi ? makeReferenceStore(Math.min(1 << 16, exact ? total.count : draws), vOut) : null;
  const run: ReferenceRun = { template, accept, stat, observed, empty, ...makeTally(observed), store };
  const result = exact
    ? yield* exactRun(run, input.design !== undefined, tIdx, cIdx)
    : yield* monteCarloRun(run, { draws, maxTries: input.maxTries ?? draws * 1000, seed });
  if (store) {
    yield;
    result.ci = invertTest(store.u(), store.v(), observed, exact ? 0 : 1, result.p_two_sided as number, (input.ci as { alpha: number }).alpha);
  }
  return result;
}
