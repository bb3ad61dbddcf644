import { calibrationRecord, isFlagged } from './calibration-flags';
import { recommendedPanelMethod, recommendedPrimaryMethod } from './primary-method';

describe('recommendedPrimaryMethod', () => {
  it('names the design in words in its reasons (no enum code such as matched_pairs in report text)', () => {
    for (const n of [30, 201]) {
      const r = recommendedPrimaryMethod('matched_pairs', n);
      expect(r.reason).not.toMatch(/matched_pairs/);
      if (n <= 200) expect(r.reason).toContain('in a matched pairs design');
    }
    const panel = recommendedPanelMethod('matched_pairs', 30);
    expect(panel.reason).toContain('matched pairs design');
    expect(panel.reason).not.toMatch(/matched_pairs/);
  });

  it('names randomization inference on the CUPED-adjusted KPI up to 200 territories, Lin regression above', () => {
    const small = recommendedPrimaryMethod('stratified', 35);
    const large = recommendedPrimaryMethod('stratified', 201);
    // the flags at the pilot's size (calibration grid: 35 → G = 30, 201 → G = 50)
    const expectSmall = isFlagged('stratified', 'randomization_lin', 35) ? 'randomization_inference' : 'randomization_inference_cuped';
    expect(small.key).toBe(expectSmall);
    expect(small.reason).toMatch(/35 territories/);
    expect(large.key).toEqual(isFlagged('stratified', 'regression_adjustment', 201) ? expect.any(String) : 'lin_regression_hc2');
    if (isFlagged('stratified', 'regression_adjustment', 201)) expect(large.skipped[0].key).toBe('lin_regression_hc2');
    expect(recommendedPrimaryMethod('complete', 20, false).key).toBe('randomization_inference');
  });

  it('a chosen (few-treated) design is decided by SDID with placebo inference, never by a randomization-based method', () => {
    for (const n of [3, 20, 500]) {
      const m = recommendedPrimaryMethod('chosen', n);
      expect(m.key).toBe('synthetic_did_placebo');
      expect(m.reason).toMatch(/no randomization/);
    }
  });

  it('never names a method the calibration bench flagged for the design, and says what it passed over', () => {
    for (const design of ['complete', 'stratified', 'matched_pairs', 'rerandomization']) {
      for (const n of [20, 500]) {
        const m = recommendedPrimaryMethod(design, n);
        const used = { randomization_inference_cuped: ['randomization', 'cuped'], randomization_inference: ['randomization'], lin_regression_hc2: ['regression_adjustment'], synthetic_did_placebo: [] }[m.key] as (
          | 'randomization'
          | 'cuped'
          | 'regression_adjustment'
        )[];
        const allFlagged = m.skipped.length === 3;
        if (!allFlagged) for (const method of used) expect(isFlagged(design, method)).toBe(false);
        for (const s of m.skipped) expect(s.reasons.length).toBeGreaterThan(0);
        if (m.skipped.length) expect(m.reason).toMatch(/passed over after calibration|every candidate/);
      }
    }
    expect(Array.isArray(calibrationRecord().flagged)).toBe(true);
  });
});
