import { compareKpi } from './kpi-comparison';

/**
 * Issue 16: the change score of a KPI that is a total over its window (revenue won, opportunities,
 * open deals, sales velocity) compares per-day rates, (test total / test days) − (pre total / pre
 * days), so a 12-month pre-period against a 6-month test period is not a fall of half the total.
 */
const OPTS = { alpha: 0.05, maxExact: 100_000, draws: 999, seed: 11 };
const PRE_DAYS = 365; // 2023-01-01..2023-12-31
const TEST_DAYS = 184; // 2024-01-01..2024-07-02 (about 6 months)

/** Daily revenue rates per territory (the same in both windows for control), treatment +10% in the test period. */
const rateT = [120, 95, 140, 110, 130, 105, 125, 98];
const rateC = [115, 100, 135, 108, 128, 102, 122, 97];
const arms = [...rateT.map(() => 'treatment'), ...rateC.map(() => 'control')];
const units = { arms, strata: arms.map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control' };
// small territory-specific wobble so the change scores vary within arms
const wobble = (i: number) => ((i * 7) % 5) - 2;
const pre = [...rateT, ...rateC].map((r, i) => (r + wobble(i)) * PRE_DAYS);
const test = [...rateT.map((r) => r * 1.1), ...rateC].map((r, i) => (r + wobble(i)) * TEST_DAYS);
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe('change score: window totals compare per-day rates (issue 16)', () => {
  it('12-month pre-period, 6-month test period: the estimate is the difference of per-day rate changes, not of totals', () => {
    const r = compareKpi('revenue_won', 'primary', test, units, OPTS, { pre, windowDays: { pre: PRE_DAYS, test: TEST_DAYS } });
    const cs = r.methods.change_score!;
    expect(cs.status).toBe('ok');
    expect(cs.method).toMatch(/per-day rate/);
    expect(cs.note).toMatch(/÷ 184 days − pre-period value ÷ 365 days/);
    // per-day change: treatment rates rose by 10 %, control rates stayed: 0.1 · mean treatment rate
    const expected = 0.1 * mean(rateT.map((r, i) => r + wobble(i)));
    expect(cs.estimate!).toBeCloseTo(expected, 9);
    expect(cs.ci_low!).toBeGreaterThan(0);
    // the control arm alone: no change per day (totals would show a fall of about half)
    const perDayC = rateC.map((_, k) => test[rateT.length + k] / TEST_DAYS - pre[rateT.length + k] / PRE_DAYS);
    perDayC.forEach((d) => expect(Math.abs(d)).toBeLessThan(1e-9));
  });

  it('a per-deal KPI (win rate) is compared as it is: windows of any length give the same shares', () => {
    const wrT = [0.3, 0.32, 0.28, 0.35, 0.31, 0.29];
    const wrC = [0.27, 0.3, 0.26, 0.29, 0.28, 0.25];
    const wrPre = [...wrT, ...wrC].map((v, i) => v - 0.01 * (i % 3));
    const a = [...wrT.map(() => 'treatment'), ...wrC.map(() => 'control')];
    const u = { arms: a, strata: a.map(() => 'all'), treatmentArm: 'treatment', controlArm: 'control' };
    const r = compareKpi('win_rate', 'secondary', [...wrT, ...wrC], u, OPTS, { pre: wrPre, windowDays: { pre: PRE_DAYS, test: TEST_DAYS } });
    const d = [...wrT, ...wrC].map((v, i) => v - wrPre[i]);
    expect(r.methods.change_score!.method).toBe('change_score_welch (test − pre-period per territory)');
    expect(r.methods.change_score!.estimate!).toBeCloseTo(mean(d.slice(0, 6)) - mean(d.slice(6)), 12);
  });

  it('a window total without the window lengths gets no change score, with the reason', () => {
    const r = compareKpi('opportunities', 'secondary', test, units, OPTS, { pre });
    expect(r.methods.change_score).toMatchObject({ status: 'not_applicable', estimate: null, p_value: null });
    expect(r.methods.change_score!.note).toMatch(/window lengths are not known/);
  });
});
