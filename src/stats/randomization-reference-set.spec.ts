/**
 * The Monte Carlo pass of the randomization tests under an acceptance rule keeps its accepted draws
 * and replays them for the next test on the same template, rule, seed and budget: the replay must
 * be the same assignments in the same order with the same counts, and nothing else may be served
 * from the store.
 */
import { randomizationDesignFromStored } from './design/designs';
import { randomizationTest } from './randomization-inference';
import { randomizationTTest } from './randomization-t';
import { AcceptanceRule, MonteCarloBudget, referenceDesignFromStored, sampleReferenceSet } from './randomization-reference-set';

const arms2 = [
  { key: 'control', role: 'control' as const },
  { key: 'treatment', role: 'treatment' as const },
];

function rerandomized(n: number) {
  const arms = Array.from({ length: n }, (_, i) => (i % 2 ? 'treatment' : 'control'));
  const units = arms.map((arm, i) => ({ code: `U${i}`, arm, stratum: 'all', covariates: { c0: (i * 37) % 11, c1: (i * 13) % 7 } }));
  const design = randomizationDesignFromStored({ type: 'rerandomization', arms: arms2, rerandomization: { covariates: ['c0', 'c1'], acceptance_probability: 0.2 } }, units);
  const values = units.map((u, i) => 100 + 5 * u.covariates.c0 + ((i * 29) % 17));
  return { arms, design, values };
}

function pass(template: Parameters<typeof sampleReferenceSet>[0], accept: AcceptanceRule, budget: MonteCarloBudget) {
  const labels: string[] = [];
  const gen = sampleReferenceSet(template, accept, budget, (l) => labels.push(l.join('')));
  let step = gen.next();
  while (!step.done) step = gen.next();
  return { labels, ...step.value };
}

describe('sampleReferenceSet: kept accepted draws', () => {
  it('a second pass replays the same draws without re-checking the rule; another seed or budget draws afresh', () => {
    const { arms, design } = rerandomized(20);
    const ref = referenceDesignFromStored(design, arms, 'treatment', 'control');
    let calls = 0;
    const accept: AcceptanceRule = (l) => (calls++, design.accept!(l));
    const budget = { draws: 300, maxTries: 300_000, seed: 11 };
    const first = pass(ref.template, accept, budget);
    const firstCalls = calls;
    expect(first.rejected).toBeGreaterThan(0);
    expect(firstCalls).toBe(first.draws + first.rejected);
    const second = pass(ref.template, accept, budget);
    expect(calls).toBe(firstCalls); // served from the store
    expect(second).toEqual(first);
    const otherSeed = pass(ref.template, accept, { ...budget, seed: 12 });
    expect(calls).toBeGreaterThan(firstCalls);
    expect(otherSeed.labels).not.toEqual(first.labels);
    const callsBefore = calls;
    const fewer = pass(ref.template, accept, { ...budget, draws: 100 });
    expect(calls).toBeGreaterThan(callsBefore);
    expect(fewer.labels).toEqual(first.labels.slice(0, 100));
  });

  it('tests sharing the store give the results of a fresh design (same p, CI and counts)', () => {
    const a = rerandomized(24);
    const b = rerandomized(24); // a separate design object: its own rule, nothing stored for it
    const opts = { treatmentArm: 'treatment', controlArm: 'control', maxExact: 1, draws: 499, seed: 7 };
    const riA1 = randomizationTest({ ...opts, values: a.values, arms: a.arms, design: a.design, ci: { alpha: 0.05 } });
    const rtA = randomizationTTest({ ...opts, values: a.values, arms: a.arms, design: a.design, statistic: 'welch_t' });
    const riA2 = randomizationTest({ ...opts, values: a.values, arms: a.arms, design: a.design, ci: { alpha: 0.05 } });
    const riB = randomizationTest({ ...opts, values: b.values, arms: b.arms, design: b.design, ci: { alpha: 0.05 } });
    const rtB = randomizationTTest({ ...opts, values: b.values, arms: b.arms, design: b.design, statistic: 'welch_t' });
    expect(riA1).toEqual(riB);
    expect(riA2).toEqual(riB);
    expect(rtA).toEqual(rtB);
    expect(rtA.n_rejected).toBeGreaterThan(0);
  });
});
