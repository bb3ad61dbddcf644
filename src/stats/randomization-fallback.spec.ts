import { randomizationDesignFromStored } from './design/designs';
import { randomizationTest } from './randomization-inference';

// The test without a stored design (the report's fallback when the stored design cannot be replayed)
// must hold the territories of other arms fixed, as the design-aware path does (issue 13).
describe('randomization test without a stored design: other arms held fixed', () => {
  const arms = ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c'];
  const values = [5, 1, 9, 6, 2, 8, 7, 3.5, 10];

  it('3 arms × 3, complete: only the two compared arms are permuted (C(6,3) = 20), as with the stored design', () => {
    const r = randomizationTest({ values, arms, treatmentArm: 'a', controlArm: 'b' });
    expect(r.n_assignments).toBe(20); // all arms together would be 9!/(3!3!3!) = 1680
    expect(r.observed_design).toEqual({ strata: 1, conditioned_on_other_arms: true });
    expect(r.strata).toEqual([{ stratum: 'all', n: 9, n_treated: 3, n_control: 3 }]);
    const units = arms.map((arm, i) => ({ code: `U${i}`, arm, stratum: 'all' }));
    const design = randomizationDesignFromStored({ type: 'complete', arms: [{ key: 'b' }, { key: 'a' }, { key: 'c' }] }, units);
    const aware = randomizationTest({ values, arms, treatmentArm: 'a', controlArm: 'b', design });
    expect(r.observed).toBe(aware.observed);
    expect([r.count_abs_ge, r.count_ge, r.count_le, r.p_two_sided]).toEqual([aware.count_abs_ge, aware.count_ge, aware.count_le, aware.p_two_sided]);
    expect(r.p_two_sided).toBeCloseTo(2 / 20, 14);
  });

  it('stratified: the same test as on the two compared arms alone, the other arm never moving', () => {
    const strata = ['n', 'n', 'n', 'n', 'n', 'n', 's', 's', 's'];
    const r = randomizationTest({ values, arms, strata, treatmentArm: 'c', controlArm: 'b' });
    const keep = arms.map((a, i) => (a === 'a' ? -1 : i)).filter((i) => i >= 0);
    const alone = randomizationTest({ values: keep.map((i) => values[i]), arms: keep.map((i) => arms[i]), strata: keep.map((i) => strata[i]), treatmentArm: 'c', controlArm: 'b' });
    expect(r.n_assignments).toBe(alone.n_assignments);
    expect(r.n_assignments).toBe(6 * 2); // C(4,2) in 'n' × C(2,1) in 's'
    expect(r.p_two_sided).toBe(alone.p_two_sided);
    expect(r.observed_design!.conditioned_on_other_arms).toBe(true);
    expect(alone.observed_design!.conditioned_on_other_arms).toBe(false);
  });
});
