import type { RandomizationTestResult } from '../../stats/randomization-inference';
import { randomizationMethodName } from './method-estimates';

describe('randomizationMethodName', () => {
  it('names the re-drawn design in words (matched pairs, not matched_pairs)', () => {
    const ri = { method: 'monte_carlo', draws: 9999, design: { type: 'matched_pairs', strata: 15, forced: 0, acceptance: null, conditioned_on_other_arms: false } } as unknown as RandomizationTestResult;
    expect(randomizationMethodName(ri)).toBe('randomization inference (9999 Monte Carlo draws, matched pairs design re-drawn)');
  });
});
