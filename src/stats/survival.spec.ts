import { assertNoNonFinite } from '../../test/fixtures/assert-finite';
import { compareToReference, loadReference } from '../../test/fixtures/reference/compare';
import { kaplanMeier, logRankTest } from './survival';

type Arm = { time: number[]; event: boolean[] };
const reference = loadReference<{ treatment: Arm; control: Arm }>('second_routes');
const kmCases = reference.cases.filter((c) => (c as unknown as { method: string }).method === 'kaplan_meier');

describe('kaplanMeier and logRankTest against scipy 1.17 ecdf/logrank (second_routes.json)', () => {
  it('has cases', () => expect(kmCases.length).toBeGreaterThanOrEqual(2));
  it.each(kmCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    for (const arm of ['treatment', 'control'] as const) {
      const r = kaplanMeier(c.input[arm]);
      assertNoNonFinite(r);
      expect(compareToReference(r, c.expected[arm], c.tolerance, { integerFields: ['median', 'median_ci_low', 'median_ci_high', 'times'] })).toEqual([]);
    }
    const lr = logRankTest(c.input.treatment, c.input.control);
    expect(compareToReference(lr, c.expected.logrank, c.tolerance)).toEqual([]);
  });

  it('a hand-checked example: 4 deals, one censored', () => {
    // times 2, 3+, 5, 7: S(2) = 3/4, S(5) = 3/4·(1 − 1/2) = 3/8, S(7) = 0
    const r = kaplanMeier({ time: [5, 2, 7, 3], event: [true, true, true, false] });
    expect(r.times).toEqual([2, 3, 5, 7]);
    expect(r.survival.map((s) => +s.toFixed(12))).toEqual([0.75, 0.75, 0.375, 0]);
    expect(r.median).toBe(5);
    expect(r.censored).toBe(1);
  });

  it('no events: the median is not reached and the log-rank test has too little data', () => {
    const r = kaplanMeier({ time: [10, 20], event: [false, false] });
    expect(r.median).toBeNull();
    const lr = logRankTest({ time: [10], event: [false] }, { time: [20], event: [false] });
    expect(lr.status).toBe('insufficient_data');
    expect(lr.p_value).toBeNull();
  });
});
