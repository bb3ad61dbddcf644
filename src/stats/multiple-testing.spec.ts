import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { adjustPValues, PValueAdjustment, rejectAt } from './multiple-testing';

const reference = loadReference<{ p: number[]; alpha: number }, Record<PValueAdjustment, { adjusted: number[]; reject: boolean[] }>>(
  'multiple',
);
const methods: PValueAdjustment[] = ['bonferroni', 'holm', 'hochberg', 'bh', 'by'];

describe('adjustPValues against multiple.json (statsmodels multipletests)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const actual: Record<string, { adjusted: number[]; reject: boolean[] }> = {};
    for (const m of methods) {
      const adjusted = adjustPValues(c.input.p, m);
      actual[m] = { adjusted, reject: rejectAt(adjusted, c.input.alpha) };
    }
    expect(compareToReference(actual, c.expected, c.tolerance)).toEqual([]);
  });

  it('returns an empty array for no p-values and rejects p outside [0, 1]', () => {
    expect(adjustPValues([], 'holm')).toEqual([]);
    expect(() => adjustPValues([0.2, 1.2], 'bh')).toThrow(RangeError);
    expect(() => adjustPValues([NaN], 'bh')).toThrow(RangeError);
  });
});
