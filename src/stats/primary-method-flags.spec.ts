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
  grid: {
    sizes: [10, 20, 30, 50],
    flagged: [
      // per size (issue 14): Lin RI fails complete designs at G = 20 only
      { design: 'complete', G: 20, method: 'randomization_lin', reasons: ['CRM panel: FPR 6.4% outside [4.0%, 6.0%]'] },
      // the panel's wild cluster bootstrap fails pairs at G = 10; everything fails stratified at G = 10
      { design: 'matched_pairs', G: 10, method: 'wild_cluster_bootstrap', reasons: ['simulated heavy-tailed panel: FPR 7.5% outside [4.0%, 6.0%]'] },
      ...['wild_cluster_bootstrap', 'cr3_jackknife', 'cr2_imbens_kolesar', 'cr2_bell_mccaffrey'].map((method) => ({ design: 'stratified', G: 10, method, reasons: ['CRM panel: coverage 90.0% outside [93.5%, 96.5%]'] })),
    ],
    cells: [],
  },
}));

import { recommendedPanelMethod, recommendedPrimaryMethod } from './primary-method';

describe('recommendedPrimaryMethod with calibration flags', () => {
  it('passes over a flagged method and names the next candidate, with the reasons', () => {
    const m = recommendedPrimaryMethod('matched_pairs', 30);
    expect(m.key).toBe('randomization_inference');
    expect(m.skipped).toEqual([{ key: 'randomization_inference_cuped', reasons: ['randomization_lin: FPR 7.1% outside [3.5%, 6.5%]'] }]);
    expect(m.reason).toMatch(/passed over after calibration: randomization inference on Lin's adjustment \(FPR 7\.1% outside \[3\.5%, 6\.5%\]\)/);
    expect(m.reason).not.toMatch(/randomization_lin|randomization_inference_cuped/);
    expect(recommendedPrimaryMethod('complete', 30).key).toBe('randomization_inference_cuped');
  });

  it('when every candidate is flagged, says no method is valid there (randomization inference still shown)', () => {
    const m = recommendedPrimaryMethod('rerandomization', 30);
    expect(m.key).toBe('randomization_inference');
    expect(m.none_valid).toBe(true);
    expect(m.skipped.map((s) => s.key)).toEqual(['randomization_inference_cuped', 'randomization_inference', 'lin_regression_hc2']);
    expect(m.reason).toMatch(/^no method is valid for a rerandomization design with 30 territories/);
    expect(recommendedPrimaryMethod('complete', 30).none_valid).toBeUndefined();
  });

  it('passes over a method flagged at the pilot\'s grid size only', () => {
    // 20–29 territories take the G = 20 flags; 12 and 30 do not
    for (const n of [20, 25, 29]) {
      const m = recommendedPrimaryMethod('complete', n);
      expect(m.key).toBe('randomization_inference');
      expect(m.skipped[0].reasons[0]).toBe(`randomization_lin: calibrated at G = 20 territories (the grid size at or below ${n}): CRM panel: FPR 6.4% outside [4.0%, 6.0%]`);
    }
    expect(recommendedPrimaryMethod('complete', 12).key).toBe('randomization_inference_cuped');
    expect(recommendedPrimaryMethod('complete', 30).key).toBe('randomization_inference_cuped');
  });
});

describe('recommendedPanelMethod with calibration flags', () => {
  it('uses the wild cluster bootstrap where it passes, the next offered method where it fails', () => {
    expect(recommendedPanelMethod('matched_pairs', 20).method).toBe('wild_cluster_bootstrap');
    const m = recommendedPanelMethod('matched_pairs', 12);
    expect(m.method).toBe('cr3_jackknife');
    expect(m.skipped).toEqual([{ method: 'wild_cluster_bootstrap', reasons: ['calibrated at G = 10 territories (the grid size at or below 12): simulated heavy-tailed panel: FPR 7.5% outside [4.0%, 6.0%]'] }]);
    expect(m.reason).toMatch(/^cluster jackknife \(CR3\) decides the panel of this matched pairs design with 12 territories; passed over after calibration: wild cluster bootstrap/);
  });

  it('says none is valid when every candidate fails at this size', () => {
    const m = recommendedPanelMethod('stratified', 16);
    expect(m.method).toBeNull();
    expect(m.skipped).toHaveLength(4);
    expect(m.reason).toMatch(/^no few-cluster method is valid for the panel of a stratified design with 16 territories/);
    expect(recommendedPanelMethod('stratified', 20).method).toBe('wild_cluster_bootstrap');
  });
});
