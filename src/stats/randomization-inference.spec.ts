import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference, ReferenceCase } from '../../test/fixtures/reference/compare';
import { pairedRandomizationTest, randomizationTest } from './randomization-inference';

interface PermInput {
  design: 'complete' | 'stratified' | 'matched_pairs';
  treatment?: number[];
  control?: number[];
  y?: number[];
  treated?: number[];
  stratum?: string[];
}
const reference = loadReference<PermInput, Record<string, unknown>>('permutation');
const byDesign = (d: string) => reference.cases.filter((c) => c.input.design === d).map((c) => [c.name, c] as const);

describe('randomizationTest against permutation.json (exact rational enumeration)', () => {
  it('covers all 10 reference cases', () => {
    expect(byDesign('complete').length + byDesign('stratified').length + byDesign('matched_pairs').length).toBe(10);
  });

  it.each(byDesign('complete'))('complete: %s', (_name, c: ReferenceCase<PermInput>) => {
    const t = c.input.treatment as number[];
    const k = c.input.control as number[];
    const r = randomizationTest({
      values: [...t, ...k],
      arms: [...t.map(() => 'treatment'), ...k.map(() => 'control')],
      treatmentArm: 'treatment',
      controlArm: 'control',
    });
    assertNoNonFinite(r);
    expect(r.method).toBe('exact');
    expect(compareToReference(r, c.expected, c.tolerance)).toEqual([]);
  });

  it.each(byDesign('stratified'))('stratified: %s', (_name, c: ReferenceCase<PermInput>) => {
    const arms = (c.input.treated as number[]).map((x) => (x === 1 ? 'treatment' : 'control'));
    const common = { values: c.input.y as number[], arms, strata: c.input.stratum as string[], treatmentArm: 'treatment', controlArm: 'control' };
    const diff = randomizationTest({ ...common, statistic: 'diff_in_means' });
    const weighted = randomizationTest({ ...common, statistic: 'stratified_weighted' });
    assertNoNonFinite(diff);
    assertNoNonFinite(weighted);
    const actual = {
      n_assignments: diff.n_assignments,
      strata: diff.strata,
      diff_in_means: diff,
      stratified_weighted: weighted,
    };
    expect(compareToReference(actual, c.expected, c.tolerance)).toEqual([]);
  });

  it.each(byDesign('matched_pairs'))('pairs: %s', (_name, c: ReferenceCase<PermInput>) => {
    const r = pairedRandomizationTest({ treatment: c.input.treatment as number[], control: c.input.control as number[] });
    assertNoNonFinite(r);
    const actual = { ...r, n_pairs: (c.input.treatment as number[]).length };
    expect(compareToReference(actual, c.expected, c.tolerance)).toEqual([]);
  });
});

describe('randomizationTest behaviour', () => {
  const three = { values: [10, 14, 12, 9, 11, 8], arms: ['t', 't', 't', 'c', 'c', 'c'], treatmentArm: 't', controlArm: 'c' };

  it('pitfall P8 (exact): 3 vs 3 has 20 assignments and a smallest two-sided p of 0.1', () => {
    const r = randomizationTest(three);
    expect(r.n_assignments).toBe(20);
    expect(r.min_attainable_p).toBeCloseTo(0.1, 15);
  });

  it('pitfall P8 (Monte Carlo): p = (1 + b)/(B + 1) is never 0, floor 1/(B + 1) = 0.001 at B = 999', () => {
    // 2 x 20 units with an overwhelming effect: no re-draw is as extreme as the observed one
    const values = [...Array.from({ length: 20 }, (_, i) => 1000 + i), ...Array.from({ length: 20 }, (_, i) => i)];
    const arms = [...Array(20).fill('t'), ...Array(20).fill('c')];
    const r = randomizationTest({ values, arms, treatmentArm: 't', controlArm: 'c', maxExact: 1000, draws: 999, seed: 7 });
    expect(r.method).toBe('monte_carlo');
    expect(r.count_abs_ge).toBe(0);
    expect(r.p_two_sided).toBe(0.001);
    expect(r.min_attainable_p).toBe(0.001);
  });

  it('is deterministic for a seed and switches to Monte Carlo above maxExact', () => {
    const values = Array.from({ length: 24 }, (_, i) => ((i * 37) % 11) + (i < 12 ? 2 : 0));
    const arms = values.map((_, i) => (i < 12 ? 't' : 'c'));
    const a = randomizationTest({ values, arms, treatmentArm: 't', controlArm: 'c', draws: 2000, seed: 42 });
    const b = randomizationTest({ values, arms, treatmentArm: 't', controlArm: 'c', draws: 2000, seed: 42 });
    expect(a.method).toBe('monte_carlo');
    expect(a.n_assignments).toBe(2704156); // C(24, 12)
    expect(a).toEqual(b);
  });

  it('Monte Carlo agrees with the exact p within sampling error (complete_7v9_win_rates: exact 0.0701923)', () => {
    const c = reference.cases.find((x) => x.name === 'complete_7v9_win_rates') as ReferenceCase<PermInput>;
    const t = c.input.treatment as number[];
    const k = c.input.control as number[];
    const r = randomizationTest({
      values: [...t, ...k],
      arms: [...t.map(() => 't'), ...k.map(() => 'c')],
      treatmentArm: 't',
      controlArm: 'c',
      maxExact: 100,
      draws: 20000,
      seed: 2026,
    });
    expect(r.method).toBe('monte_carlo');
    // 4 standard errors of a binomial proportion at p = 0.07, B = 20000: 4 * sqrt(0.07 * 0.93 / 20000) = 0.0072
    expect(Math.abs((r.p_two_sided as number) - 0.07019230769230769)).toBeLessThan(0.0072);
  });

  it('keeps units with a missing value in the design and ignores them in the statistic', () => {
    const r = randomizationTest({ ...three, values: [10, 14, null, 9, 11, 8] });
    expect(r.n_assignments).toBe(20);
    expect(r.observed).toBeCloseTo(12 - 28 / 3, 12);
    assertNoNonFinite(r);
  });

  it('returns insufficient_data when an arm has no observed value', () => {
    const r = randomizationTest({ ...three, values: [null, null, null, 9, 11, 8] });
    expect(r.status).toBe('insufficient_data');
    expect(r.p_two_sided).toBeNull();
    assertNoNonFinite(r);
  });

  it('multi-arm without a stored design: the other arm stays put, as in the design-aware path (3 arms x 2 units: C(4,2) = 6 assignments)', () => {
    const r = randomizationTest({
      values: [5, 6, 1, 2, 3, 4],
      arms: ['a', 'a', 'b', 'b', 'c', 'c'],
      treatmentArm: 'a',
      controlArm: 'b',
    });
    // permuting every arm together would give 6!/(2!2!2!) = 90 assignments (issue 13)
    expect(r.n_assignments).toBe(6);
    expect(r.observed_design!.conditioned_on_other_arms).toBe(true);
    // |T| is maximal (5.5 − 1.5 = 4) only when {5,6} and {1,2} are split between a and b: 2 of 6
    expect(r.count_abs_ge).toBe(2);
  });

  it('switches between exact (63,504 stratified assignments) and Monte Carlo (C(30,15) > maxExact)', () => {
    // Speed is measured by benches, never by timed tests (rules): this checks the method choice only.
    // 2 strata of 10 (C(10,5)^2 = 63,504 assignments) + 10 fixed units in a third arm for 30 units
    const values = Array.from({ length: 30 }, (_, i) => Math.sin(i) * 100);
    const arms = values.map((_, i) => (i < 20 ? (i % 2 === 0 ? 't' : 'c') : 'x'));
    const strata = values.map((_, i) => (i < 10 ? 'A' : i < 20 ? 'B' : 'C'));
    const exact = randomizationTest({ values, arms, strata, treatmentArm: 't', controlArm: 'c' });
    expect(exact.method).toBe('exact');
    expect(exact.n_assignments).toBe(63504);
    const mc = randomizationTest({ values, arms: values.map((_, i) => (i < 15 ? 't' : 'c')), treatmentArm: 't', controlArm: 'c', seed: 1 });
    expect(mc.method).toBe('monte_carlo');
    expect(mc.draws).toBe(10000);
  });
});
