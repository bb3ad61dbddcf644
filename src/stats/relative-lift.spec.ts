import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { relativeLift } from './relative-lift';

const reference = loadReference<{ treatment: number[]; control: number[]; alpha: number }>('relative_lift');

describe('relativeLift against relative_lift.json (closed form, verified by mpmath)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = relativeLift(c.input.treatment, c.input.control, { alpha: c.input.alpha });
    assertNoNonFinite(r);
    expect(r.status).toBe('ok');
    expect(compareToReference(r, c.expected, c.tolerance)).toEqual([]);
  });
});

describe('relativeLift degenerate inputs', () => {
  it('pitfall P4: a negative control mean gives baseline_not_positive and no (sign-flipped) lift', () => {
    // pitfalls.md P4: control [-12,-8,-10,-11,-9], treatment [-6,-4,-5,-7,-3]
    const r = relativeLift([-6, -4, -5, -7, -3], [-12, -8, -10, -11, -9]);
    expect(r.status).toBe('baseline_not_positive');
    expect(r.lift).toBeNull();
    expect(r.ratio).toBeNull();
    expect(r.delta).toEqual({ se: null, ci_low: null, ci_high: null });
    expect(r.fieller.ci_low).toBeNull();
    expect(r.mean_t).toBe(-5);
    expect(r.mean_c).toBe(-10);
    assertNoNonFinite(r);
  });

  it('a zero control mean is not a positive baseline either', () => {
    expect(relativeLift([1, 2, 3], [0, 0, 0]).status).toBe('baseline_not_positive');
  });

  it('both arms constant: zero_variance with null bounds and the reason, never a zero-width interval (issue 13)', () => {
    const r = relativeLift([5, 5, 5], [4, 4, 4]);
    assertNoNonFinite(r);
    expect(r.status).toBe('zero_variance');
    expect(r.lift).toBeCloseTo(0.25, 15);
    expect(r.delta).toEqual({ se: 0, ci_low: null, ci_high: null });
    expect(r.fieller).toMatchObject({ bounded: null, ci_low: null, ci_high: null });
    expect(r.reason).toMatch(/same value within each arm, so the standard error of the lift is 0/);
  });

  it('only one arm constant keeps its (reference) interval: the treatment-all-zero case stays ok', () => {
    expect(relativeLift([0, 0, 0], [600, 700, 650]).status).toBe('ok');
  });

  it('an arm with fewer than 2 territories gives insufficient_data', () => {
    const r = relativeLift([5], [3, 4, 5]);
    expect(r.status).toBe('insufficient_data');
    expect(r.lift).toBeNull();
    expect(r.fieller.bounded).toBeNull();
    assertNoNonFinite(r);
  });
});
