import { randomizationDesignFromStored } from '../../stats/design/designs';
import { compareKpi } from './kpi-comparison';
import { DESIGN_FALLBACK_NOTE } from './method-estimates';

const OPTS = { alpha: 0.05, maxExact: 100_000, draws: 999, seed: 7 };

// Without a replayable stored design the report falls back to the stored strata; with three arms the
// comparison of one treatment arm with control must permute only those two arms' territories (issue 13).
describe('the report without a replayable design: fallback on the stored strata, said so', () => {
  const arms = ['control', 'call_times', 'specialist', 'control', 'call_times', 'specialist', 'control', 'call_times', 'specialist', 'control', 'call_times', 'specialist'];
  const values = [10, 14, 30, 12, 15, 31, 11, 17, 29, 13, 16, 33];
  const units = { arms, strata: arms.map(() => 'all'), treatmentArm: 'call_times', controlArm: 'control' };

  it('call_times vs control: C(8,4) = 70 assignments, the specialist territories never move', () => {
    const r = compareKpi('revenue_won', 'primary', values, units, { ...OPTS, primaryMethod: 'randomization_inference' });
    expect(r.randomization.n_assignments).toBe(70); // all three arms together: 12!/(4!)^3 = 34,650
    // call_times beats control in every territory: only the observed split and its mirror reach |T|
    expect(r.randomization.p_value).toBeCloseTo(2 / 70, 14);
    expect(r.randomization.note).toBe(DESIGN_FALLBACK_NOTE);
    expect(r.primary.method).toMatch(/stored design not replayed: re-drawn within the stored strata/);
    expect(r.primary.note).toContain(DESIGN_FALLBACK_NOTE);
  });

  it('with the stored design: the same reference set, and no fallback note', () => {
    const stored = arms.map((arm, i) => ({ code: `T${i}`, arm, stratum: 'all' }));
    const design = randomizationDesignFromStored({ type: 'complete', arms: [{ key: 'control' }, { key: 'call_times' }, { key: 'specialist' }] }, stored);
    const r = compareKpi('revenue_won', 'primary', values, { ...units, design, designType: 'complete' }, { ...OPTS, primaryMethod: 'randomization_inference' });
    const fallback = compareKpi('revenue_won', 'primary', values, units, { ...OPTS, primaryMethod: 'randomization_inference' });
    expect(r.randomization.n_assignments).toBe(70);
    expect(r.randomization.p_value).toBe(fallback.randomization.p_value);
    expect(r.randomization.note).toBeNull();
    expect(r.primary.method).toMatch(/complete design re-drawn/);
  });
});
