import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { conditionalPowerCurrentTrend, continueSpending, obrienFlemingBoundaries, obrienFlemingSpend, spendingLooks } from './group-sequential';

interface Input {
  kind: string;
  information_fractions: number[];
  alpha: number;
  sided: number;
}

const ref = loadReference<Input>('sequential');
const cases = ref.cases.filter((c) => c.input.kind === 'ld_obf_boundaries');

/** Arrays of each field over the looks, in the reference's layout. */
function columns(looks: ReturnType<typeof obrienFlemingBoundaries>) {
  return {
    z_boundaries: looks.map((l) => l.z_boundary),
    nominal_p_two_sided: looks.map((l) => l.nominal_p_two_sided),
    cumulative_alpha_spent: looks.map((l) => l.cumulative_alpha_spent),
    incremental_alpha: looks.map((l) => l.incremental_alpha),
  };
}

describe('Lan–DeMets O\'Brien–Fleming boundaries (reference: sequential.json)', () => {
  it('uses every boundary case of the reference file', () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(c.input.sided).toBe(2);
    const standard = columns(obrienFlemingBoundaries(c.input.information_fractions, c.input.alpha));
    const variant = columns(obrienFlemingBoundaries(c.input.information_fractions, c.input.alpha, { spending: 'total_alpha' }));
    expect(compareToReference({ ...standard, variant_total_alpha_in_spending_function: variant }, c.expected, c.tolerance)).toEqual([]);
  });

  it('matches the published DeMets–Lan table (K = 5 equally spaced, alpha 0.05) to 3 decimals', () => {
    const z = obrienFlemingBoundaries([0.2, 0.4, 0.6, 0.8, 1], 0.05).map((l) => l.z_boundary);
    expect(z.map((x) => Math.round(x * 1000) / 1000)).toEqual([4.877, 3.357, 2.68, 2.29, 2.031]);
  });

  it('a single look at t = 1 is the fixed-sample test', () => {
    const [look] = obrienFlemingBoundaries([1], 0.05);
    expect(look.z_boundary).toBeCloseTo(1.959963985, 8);
    expect(look.cumulative_alpha_spent).toBeCloseTo(0.05, 15);
  });

  it('computes tiny early spends without cancellation', () => {
    const spend = obrienFlemingSpend(0.1, 0.05);
    expect(spend).toBeGreaterThan(1e-13);
    expect(spend).toBeLessThan(1e-10);
    const [first] = obrienFlemingBoundaries([0.1, 1], 0.05);
    expect(Number.isFinite(first.z_boundary)).toBe(true);
    expect(first.z_boundary).toBeGreaterThan(6);
  });

  it('rejects fractions that do not increase, fall outside (0, 1], or an even grid', () => {
    expect(() => obrienFlemingBoundaries([0.5, 0.5], 0.05)).toThrow(RangeError);
    expect(() => obrienFlemingBoundaries([0.6, 0.4], 0.05)).toThrow(RangeError);
    expect(() => obrienFlemingBoundaries([0, 1], 0.05)).toThrow(RangeError);
    expect(() => obrienFlemingBoundaries([1.2], 0.05)).toThrow(RangeError);
    expect(() => obrienFlemingBoundaries([], 0.05)).toThrow(RangeError);
    expect(() => obrienFlemingBoundaries([1], 0.05, { gridPoints: 1000 })).toThrow(RangeError);
  });
});

describe('continuing the spending from the looks already taken (information that does not increase)', () => {
  // Reference values: sequential.json, cases [0.25, 0.5, 0.75, 1] and [0.5, 1] at alpha 0.05 (standard spending).
  const byFractions = (f: number[]) => cases.find((c) => JSON.stringify(c.input.information_fractions) === JSON.stringify(f) && c.input.alpha === 0.05)!.expected as Record<string, number[]>;
  const four = byFractions([0.25, 0.5, 0.75, 1]);
  const two = byFractions([0.5, 1]);

  it('a look that exceeds the completed ones spends from where they left off (the reference boundaries)', () => {
    const third = continueSpending([0.25, 0.5], 0.75, 0.05);
    expect(third).toMatchObject({ information_decreased: false, exceeded_by: null, fractions_used: [0.25, 0.5, 0.75] });
    expect(third.z_boundary).toBeCloseTo(four.z_boundaries[2], 6);
    expect(third.cumulative_alpha_spent).toBeCloseTo(four.cumulative_alpha_spent[2], 12);
    expect(continueSpending([0.5], 1, 0.05).z_boundary).toBeCloseTo(two.z_boundaries[1], 6);
    expect(continueSpending([], 0.5, 0.05).z_boundary).toBeCloseTo(two.z_boundaries[0], 6);
  });

  it('a later look whose fraction does not exceed a completed one keeps the alpha spent, spends nothing and says information decreased', () => {
    // Look 1 at 0.25 and look 2 at 0.5 were taken; an amendment extended the test period, so look 3 is now at 0.1.
    const moved = continueSpending([0.25, 0.5], 0.1, 0.05);
    expect(moved).toMatchObject({
      information_fraction: 0.1,
      information_decreased: true,
      exceeded_by: { index: 1, information_fraction: 0.5 },
      z_boundary: null,
      nominal_p_two_sided: null,
      incremental_alpha: 0,
      fractions_used: [0.25, 0.5], // the completed looks are not dropped
    });
    // Not α(0.1) ≈ 1e-12: the 0.00305 spent by the completed looks stays spent.
    expect(moved.cumulative_alpha_spent).toBeCloseTo(four.cumulative_alpha_spent[1], 12);
    expect(moved.cumulative_alpha_spent).toBeGreaterThan(obrienFlemingSpend(0.1, 0.05));
    // A look at the same fraction as a completed one spends nothing either.
    expect(continueSpending([0.5], 0.5, 0.05)).toMatchObject({ information_decreased: true, incremental_alpha: 0, z_boundary: null });
  });

  it('after a look that spent nothing, the next looks and the final one continue from the completed looks that spent', () => {
    expect(spendingLooks([0.25, 0.5, 0.1])).toEqual([0, 1]);
    const next = continueSpending([0.25, 0.5, 0.1], 0.75, 0.05);
    expect(next.fractions_used).toEqual([0.25, 0.5, 0.75]);
    expect(next.z_boundary).toBeCloseTo(four.z_boundaries[2], 6);
    expect(next.incremental_alpha).toBeCloseTo(four.incremental_alpha[2], 12);
    const final = continueSpending([0.25, 0.5, 0.1, 0.75], 1, 0.05);
    expect(final.z_boundary).toBeCloseTo(four.z_boundaries[3], 6);
    expect(final.cumulative_alpha_spent).toBeCloseTo(0.05, 12);
    expect(() => continueSpending([0.5], 0, 0.05)).toThrow(RangeError);
    expect(() => continueSpending([1.5], 0.5, 0.05)).toThrow(RangeError);
  });
});

describe('conditional power under the current trend', () => {
  it('is Φ((z/√t − c)/√(1 − t)) and is certain at t = 1', () => {
    // z = 1, t = 0.5, c = 2: (1.41421356 − 2)/0.70710678 = −0.8284271 → Φ = 0.2037143 (math.erfc)
    expect(conditionalPowerCurrentTrend(1, 0.5, 2)).toBeCloseTo(0.2037143, 6);
    expect(conditionalPowerCurrentTrend(2.5, 1, 2)).toBe(1);
    expect(conditionalPowerCurrentTrend(1.5, 1, 2)).toBe(0);
    expect(conditionalPowerCurrentTrend(-1, 0.5, 2)).toBeLessThan(0.01);
  });
});
