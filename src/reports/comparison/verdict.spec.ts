import type { KpiResult } from '../report.types';
import { finalise, sentenceNumber } from './verdict';

/** A minimal ok KPI result whose deciding CI and lift are large numbers (what the verdict quotes). */
function bigResult(over: Partial<KpiResult> = {}): KpiResult {
  return {
    kpi: 'revenue_won',
    label: 'Revenue won',
    unit: 'currency',
    role: 'secondary',
    higher_is_better: true,
    treatment_arm: 'treatment',
    control_arm: 'control',
    status: 'ok',
    status_reason: null,
    decision_p: 0.3,
    relative_lift: { estimate: -0.214, ci_low: null, ci_high: null, method: 'fieller', status: 'ok', note: null },
    difference: { estimate: -34680.2 },
    primary: { method: 'randomization inference on the KPI', status: 'ok', estimate: -34680.2, ci_low: -1234567.8, ci_high: 26362.4, p_value: 0.3, note: null },
    randomization: { min_attainable_p: 0.0001 },
    adjusted: null,
    non_inferiority: null,
    ...over,
  } as unknown as KpiResult;
}

describe('sentenceNumber', () => {
  it('puts thousands separators (en locale) in large numbers, keeps the decimals rule', () => {
    expect(sentenceNumber(1234567.8)).toBe('1,234,568');
    expect(sentenceNumber(-102308)).toBe('-102,308');
    expect(sentenceNumber(561)).toBe('561');
    expect(sentenceNumber(37.8)).toBe('37.80');
    expect(sentenceNumber(-0.0123)).toBe('-0.0123');
  });
});

describe('finalise: the verdict sentence', () => {
  it('quotes a large CI with thousands separators', () => {
    const v = finalise(bigResult(), 0.05).verdict;
    expect(v).toContain('95% CI of the difference -1,234,568 to 26,362');
    expect(v).not.toMatch(/(?<![.\d])\d{4,}/); // no integer part of 4+ digits without separators (p-value decimals aside)
  });

  it('does the same for per-day rates and for the Holm-consistent interval', () => {
    const perDay = finalise(bigResult({ unit: 'currency per day' } as Partial<KpiResult>), 0.05).verdict;
    expect(perDay).toContain('-1,234,568 per day to 26,362 per day');
    const holm = finalise(
      bigResult({ adjusted: { method: 'holm', interval: { conf_level: 0.992, ci_low: -102308.2, ci_high: 26362 } } } as unknown as Partial<KpiResult>),
      0.05,
    ).verdict;
    expect(holm).toContain('Holm-consistent 99.2% CI of the difference -102,308 to 26,362');
  });
});
