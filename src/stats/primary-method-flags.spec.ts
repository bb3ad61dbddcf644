// A calibration record with flags, standing in for the bench's output file.
jest.mock('./calibration-results.json', () => ({
  generated_by: 'test',
  generated_at: null,
  data: 'test',
  placebo_pilots_per_design: 1000,
  ri_draws: 200,
  targets: { fpr: [0.035, 0.065], coverage: [0.93, 0.97], alpha: 0.05, planted_lift: 0.1 },
  flagged: [
    // the deciding adjusted RI is checked against its own bench row, randomization_lin (issue 16);
    // flags of the old rows (pooled-θ CUPED) no longer decide
    { design: 'matched_pairs', method: 'randomization_lin', reasons: ['FPR 7.1% outside [3.5%, 6.5%]'] },
    { design: 'complete', method: 'cuped', reasons: ['FPR 7.1% outside [3.5%, 6.5%]'] },
    { design: 'complete', method: 'randomization_cuped_pooled', reasons: ['FPR 7.1% outside [3.5%, 6.5%]'] },
    { design: 'rerandomization', method: 'randomization_lin', reasons: ['coverage 91% outside [93%, 97%]'] },
    { design: 'rerandomization', method: 'randomization', reasons: ['coverage 91% outside [93%, 97%]'] },
    { design: 'rerandomization', method: 'regression_adjustment', reasons: ['FPR 8% outside [3.5%, 6.5%]'] },
  ],
  results: [],
}));

import { recommendedPrimaryMethod } from './primary-method';

describe('recommendedPrimaryMethod with calibration flags', () => {
  it('passes over a flagged method and names the next candidate, with the reasons', () => {
    const m = recommendedPrimaryMethod('matched_pairs', 30);
    expect(m.key).toBe('randomization_inference');
    expect(m.skipped).toEqual([{ key: 'randomization_inference_cuped', reasons: ['randomization_lin: FPR 7.1% outside [3.5%, 6.5%]'] }]);
    expect(m.reason).toMatch(/passed over after calibration: randomization_inference_cuped/);
    expect(recommendedPrimaryMethod('complete', 30).key).toBe('randomization_inference_cuped');
  });

  it('when every candidate is flagged, keeps randomization inference and says why', () => {
    const m = recommendedPrimaryMethod('rerandomization', 30);
    expect(m.key).toBe('randomization_inference');
    expect(m.skipped.map((s) => s.key)).toEqual(['randomization_inference_cuped', 'randomization_inference', 'lin_regression_hc2']);
    expect(m.reason).toMatch(/every candidate was flagged/);
  });
});
