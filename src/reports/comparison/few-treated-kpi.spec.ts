import { createPrng } from '../../stats/design/prng';
import { simulateFactorPanel } from '../../stats/synthetic/calibration-panels';
import { fewTreatedKpi } from './few-treated-kpi';

const PRE = 16;
const TEST = 8;

/** A seeded 30-territory panel in the report's shape: per unit its pre-period and test-period weeks. */
function weeklyOf(units: number, seed: number) {
  const panel = simulateFactorPanel(createPrng(seed), { units, weeks: PRE + TEST });
  const codes = [...new Set(panel.unit)].sort();
  const weekly = codes.map((c) => {
    const values = panel.value.filter((_, r) => panel.unit[r] === c);
    const weeks = panel.week.filter((_, r) => panel.unit[r] === c);
    const byWeek = weeks.map((w, i) => [w, values[i]] as const).sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    return { pre: byWeek.slice(0, PRE), test: byWeek.slice(PRE) };
  });
  return { codes, weekly };
}

describe('fewTreatedKpi: the report block of a chosen (few-treated) pilot', () => {
  const { codes, weekly } = weeklyOf(30, 77);
  const opts = { alpha: 0.05, seed: 4242 };

  it('k = 1 of 30: the test is not offered as a decision test, so the primary block does not decide (not_applicable, no CI, no p) and says why', () => {
    const arms = codes.map((_, i) => (i === 3 ? 'treatment' : 'control'));
    const { block, primary } = fewTreatedKpi(weekly, codes, arms, 'treatment', 'revenue won per week', opts);
    expect(primary.status).toBe('not_applicable');
    expect(primary.ci_low).toBeNull();
    expect(primary.ci_high).toBeNull();
    expect(primary.p_value).toBeNull();
    // the numbers are still shown: the SDID estimate and its placebo SE
    expect(Number.isFinite(primary.estimate)).toBe(true);
    expect(Number.isFinite(primary.se)).toBe(true);
    expect(primary.note).toMatch(/no decision$/);
    // the block names the reason (the attainable size below the calibration band) and keeps the result
    expect(block.status).toBe('ok');
    expect(block.note).toEqual(expect.any(String));
    expect(primary.note).toContain(block.note as string);
    expect(block.result?.treated).toEqual([codes[3]]);
  });

  it('k = 2 of 30: the placebo randomization test decides (CI and p from one method, the CI excludes 0 exactly when p < α)', () => {
    const arms = codes.map((_, i) => (i === 3 || i === 11 ? 'treatment' : 'control'));
    const { block, primary } = fewTreatedKpi(weekly, codes, arms, 'treatment', 'revenue won per week', opts);
    expect(primary.status).toBe('ok');
    expect(block.note).toBeNull();
    expect(primary.p_value).toBeGreaterThan(0);
    expect(primary.p_value).toBeLessThanOrEqual(1);
    expect(primary.ci_low).toBeLessThanOrEqual(primary.estimate as number);
    expect(primary.ci_high).toBeGreaterThanOrEqual(primary.estimate as number);
    const excludesZero = (primary.ci_low as number) > 0 || (primary.ci_high as number) < 0;
    expect(excludesZero).toBe((primary.p_value as number) < opts.alpha);
  });

  it('a pre-period too short for the estimators: insufficient_data with the core reason, nothing decided', () => {
    const short = weekly.map((w) => ({ pre: w.pre.slice(0, 1), test: w.test }));
    const arms = codes.map((_, i) => (i < 2 ? 'treatment' : 'control'));
    const { block, primary } = fewTreatedKpi(short, codes, arms, 'treatment', 'revenue won per week', opts);
    expect(primary.status).toBe('insufficient_data');
    expect(primary.estimate).toBeNull();
    expect(primary.note).toMatch(/^PRE_PERIOD_TOO_SHORT: /);
    expect(block.result).toBeNull();
  });
});
