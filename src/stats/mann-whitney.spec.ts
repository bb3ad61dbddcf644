import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { mannWhitneyU } from './mann-whitney';

const reference = loadReference<{ treatment: number[]; control: number[] }>('mannwhitney');

describe('mannWhitneyU against mannwhitney.json (scipy mannwhitneyu, exact conditional enumeration)', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = mannWhitneyU(c.input.treatment, c.input.control);
    assertNoNonFinite(r);
    expect(compareToReference(r, c.expected, c.tolerance, { integerFields: ['n1', 'n2'] })).toEqual([]);
  });

  it('an empty arm has too little data', () => {
    expect(mannWhitneyU([1, 2], []).status).toBe('insufficient_data');
  });
});
