import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { pairedTTest, wilcoxonSignedRank } from './paired';

const reference = loadReference<{ treatment: number[]; control: number[] }>('paired');

describe('pairedTTest and wilcoxonSignedRank against paired.json (scipy ttest_rel / wilcoxon, exact enumeration)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const t = pairedTTest(c.input.treatment, c.input.control);
    const w = wilcoxonSignedRank(c.input.treatment, c.input.control);
    assertNoNonFinite(t);
    assertNoNonFinite(w);
    expect(compareToReference(t, c.expected.paired_t, c.tolerance, { integerFields: ['df'] })).toEqual([]);
    expect(compareToReference(w, c.expected.wilcoxon, c.tolerance)).toEqual([]);
  });

  it('all differences zero: Wilcoxon has too little data, no NaN', () => {
    const w = wilcoxonSignedRank([1, 2, 3], [1, 2, 3]);
    expect(w.status).toBe('insufficient_data');
    expect(w.p_value).toBeNull();
    assertNoNonFinite(w);
  });
});
