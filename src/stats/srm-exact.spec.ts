/** Exact SRM / completeness at pilot size, against test/fixtures/few-cluster/srm-exact.json (scipy). */
import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference } from '../../test/fixtures/reference/compare';
import { exactCompletenessCheck, exactSampleRatioTest } from './srm-exact';
import { loadFixture } from '../../test/fixtures/load-fixture';

interface Case {
  name: string;
  input: { observed: number[]; ratios: number[] };
  expected: { p_exact: number };
  tolerance: { rel: number; abs: number };
}
const fixture = loadFixture('few-cluster/srm-exact.json') as { cases: Case[] };

describe('exactSampleRatioTest against scipy binomtest / brute-force multinomial sums', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = exactSampleRatioTest(c.input.observed, c.input.ratios)!;
    expect(r.method).toBe(c.input.observed.length === 2 ? 'exact_binomial' : 'exact_multinomial');
    expect(compareToReference({ p_exact: r.p_value }, c.expected, c.tolerance)).toEqual([]);
    assertNoNonFinite(r);
  });

  it('the smallest attainable p is the least likely outcome: 2 × 0.5^12 for 12 territories at 1:1', () => {
    expect(exactSampleRatioTest([6, 6], [1, 1])!.min_attainable_p).toBeCloseTo(2 * 0.5 ** 12, 15);
  });

  it('falls back to chi-square beyond the enumeration budget', () => {
    const r = exactSampleRatioTest([400, 380, 420], [1, 1, 1], { maxOutcomes: 1000 })!;
    expect(r.method).toBe('chi_square_goodness_of_fit');
    expect(r.p_value).toBeGreaterThan(0);
  });
});

describe('exactCompletenessCheck at pilot size', () => {
  it('30 territories, 15 vs 15 designed: an exact p instead of "too little data"; losing a whole arm is a mismatch', () => {
    const c = exactCompletenessCheck('territories reporting', [15, 5], [15, 15]);
    expect(c.state).toBe('ok'); // p = 0.041: real but not below 0.001
    const lost = exactCompletenessCheck('territories reporting', [15, 0], [15, 15]);
    expect(lost.state).toBe('mismatch');
    expect(lost.p_value!).toBeCloseTo(2 * 0.5 ** 15, 12);
    expect(lost.note).not.toMatch(/too_little_data|_/);
  });

  it('says plainly when no outcome could be flagged (6 territories in total)', () => {
    const c = exactCompletenessCheck('territories reporting', [3, 3], [1, 1]);
    expect(c.state).toBe('too_little_data');
    expect(c.note).toContain('cannot detect a mismatch');
    expect(c.note).not.toContain('too_little_data');
  });

  it('no data or a zero expected share: the check cannot run', () => {
    expect(exactCompletenessCheck('x', [0, 0], [1, 1]).state).toBe('too_little_data');
    expect(exactCompletenessCheck('x', [3, 2], [1, 0]).p_value).toBeNull();
  });
});
