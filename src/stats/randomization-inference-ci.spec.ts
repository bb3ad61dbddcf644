/**
 * The CI by test inversion computes, in ONE pass per re-drawn assignment, the statistic u_a and the
 * same statistic of the observed-treatment indicator v_a, and then p(τ) from the stored (u_a, v_a).
 * These properties check it against the definition, by brute force: p(τ) is the randomization p of
 * the shifted outcomes y − τ·1[observed treatment], re-run as a whole test with the same seed (the
 * same draws). Covered: Monte Carlo and exact, diff_in_means and stratified_weighted, missing values,
 * a third arm held fixed.
 */
import fc from 'fast-check';
import { randomizationTest, RandomizationTestInput } from './randomization-inference';

const ALPHA = 0.1;
type CaseOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** p of the whole test re-run on y − τ·1[observed treatment] (the definition of p(τ)). */
function pShifted(input: RandomizationTestInput, tau: number): number {
  const { ci: _ci, ...rest } = input;
  const values = input.values.map((v, i) => (v === null ? null : input.arms[i] === input.treatmentArm ? v - tau : v));
  return randomizationTest({ ...rest, values }).p_two_sided as number;
}

const caseArb = fc
  .record({
    n: fc.integer({ min: 8, max: 13 }),
    exact: fc.boolean(),
    stratified: fc.boolean(),
    thirdArm: fc.boolean(),
    seed: fc.nat({ max: 1_000_000 }),
  })
  .chain((c) =>
    fc.record({
      c: fc.constant(c),
      values: fc.array(fc.option(fc.integer({ min: -5000, max: 5000 }).map((v) => v / 10), { freq: 8 }), { minLength: c.n, maxLength: c.n }),
    }),
  );

function inputOf({ c, values }: CaseOf<typeof caseArb>): RandomizationTestInput {
  const arms = values.map((_, i) => (c.thirdArm && i % 5 === 4 ? 'other' : i % 2 ? 'treatment' : 'control'));
  const strata = values.map((_, i) => (i < values.length / 2 ? 'A' : 'B'));
  return {
    values,
    arms,
    treatmentArm: 'treatment',
    controlArm: 'control',
    ...(c.stratified ? { strata, statistic: 'stratified_weighted' as const } : {}),
    maxExact: c.exact ? 100_000 : 1,
    draws: 400,
    seed: c.seed,
    ci: { alpha: ALPHA },
  };
}

describe('randomization CI from stored (u_a, v_a) equals the test re-run on shifted outcomes', () => {
  it('p, counts and the rest of the result do not depend on asking for the CI', () => {
    fc.assert(
      fc.property(caseArb, (k) => {
        const input = inputOf(k);
        const { ci: _ci, ...without } = input;
        const a = randomizationTest(input);
        const b = randomizationTest(without);
        const { ci: _c, ...aRest } = a;
        expect(aRest).toEqual(b);
      }),
      { numRuns: 60, seed: 424242 },
    );
  });

  it('each finite bound is accepted by the shifted test and rejected just outside it', () => {
    let checked = 0;
    fc.assert(
      fc.property(caseArb, (k) => {
        const input = inputOf(k);
        const r = randomizationTest(input);
        if (r.status !== 'ok' || !r.ci || r.ci.status !== 'ok' || r.ci.note !== null) return;
        const low = r.ci.low as number;
        const high = r.ci.high as number;
        const eps = 1e-7 * Math.max(1, Math.abs(low), Math.abs(high));
        expect(pShifted(input, low)).toBeGreaterThanOrEqual(ALPHA);
        expect(pShifted(input, high)).toBeGreaterThanOrEqual(ALPHA);
        expect(pShifted(input, low - eps)).toBeLessThan(ALPHA);
        expect(pShifted(input, high + eps)).toBeLessThan(ALPHA);
        // the observed statistic and every τ between the bounds tested on a grid are accepted
        for (let q = 1; q < 4; q++) expect(pShifted(input, low + ((high - low) * q) / 4)).toBeGreaterThanOrEqual(ALPHA);
        checked++;
      }),
      { numRuns: 60, seed: 20261130 },
    );
    expect(checked).toBeGreaterThan(15);
  });
});
