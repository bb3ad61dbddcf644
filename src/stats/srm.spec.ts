import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { chiSquareGoodnessOfFit } from './srm';

const reference = loadReference<{ observed: number[]; ratios: number[] }>('srm');

describe('chiSquareGoodnessOfFit against srm.json (scipy chisquare / binomtest)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = chiSquareGoodnessOfFit(c.input.observed, c.input.ratios);
    assertNoNonFinite(r);
    expect(compareToReference(r, c.expected, c.tolerance, { integerFields: ['df'] })).toEqual([]);
  });

  it('flags low expected counts and returns insufficient_data for no observations', () => {
    expect(chiSquareGoodnessOfFit([6, 14], [1, 1]).low_expected_counts).toBe(false);
    expect(chiSquareGoodnessOfFit([3, 1], [1, 1]).low_expected_counts).toBe(true);
    const empty = chiSquareGoodnessOfFit([0, 0], [0.7, 0.3]);
    expect(empty.status).toBe('insufficient_data');
    expect(empty.p_value).toBeNull();
    assertNoNonFinite(empty);
  });

  it('uses the designed ratios, not 50/50 (pitfall P6: 70 vs 30 at 70/30 gives chi2 = 0, p = 1)', () => {
    const r = chiSquareGoodnessOfFit([70, 30], [0.7, 0.3]);
    expect(r.chi2).toBeCloseTo(0, 12);
    expect(r.p_value).toBeCloseTo(1, 12);
  });

  it('rejects malformed input', () => {
    expect(() => chiSquareGoodnessOfFit([1], [1])).toThrow(RangeError);
    expect(() => chiSquareGoodnessOfFit([1, 2], [1])).toThrow(RangeError);
    expect(() => chiSquareGoodnessOfFit([1.5, 2], [1, 1])).toThrow(RangeError);
    expect(() => chiSquareGoodnessOfFit([1, 2], [1, 0])).toThrow(RangeError);
  });
});
