import { compareToReference, loadReference, ReferenceCase } from '../../test/fixtures/reference/compare';
import { studentTCdf } from '../stats/distributions';
import { cohensH, noncentralTCdf, proportionMde, proportionNobs1, proportionPower, tTestMde, tTestNobs1, tTestPower } from './analytic-power';

const reference = loadReference<Record<string, any>, Record<string, number>>('power');
const kind = (k: string) => reference.cases.filter((c) => c.input.kind === k).map((c) => [c.name, c] as const);

describe('analytic power against power.json (statsmodels TTestIndPower / NormalIndPower, exact roots)', () => {
  it('covers all 18 reference cases', () => {
    const kinds = ['ttest_power', 'ttest_nobs1', 'ttest_mde', 'prop_nobs1', 'prop_power', 'prop_mde'];
    expect(kinds.reduce((s, k) => s + kind(k).length, 0)).toBe(18);
  });

  it.each(kind('ttest_power'))('%s', (_n, c: ReferenceCase) => {
    const power = tTestPower({ effect_size: c.input.effect_size, nobs1: c.input.nobs1, ratio: c.input.ratio, alpha: c.input.alpha, alternative: c.input.alternative });
    expect(compareToReference({ power }, c.expected, c.tolerance)).toEqual([]);
  });

  it.each(kind('ttest_nobs1'))('%s', (_n, c: ReferenceCase) => {
    const r = tTestNobs1({ effect_size: c.input.effect_size, power: c.input.power, ratio: c.input.ratio, alpha: c.input.alpha, alternative: c.input.alternative });
    expect(compareToReference(r, c.expected, c.tolerance)).toEqual([]);
  });

  it.each(kind('ttest_mde'))('%s', (_n, c: ReferenceCase) => {
    const r = tTestMde({ nobs1: c.input.nobs1, power: c.input.power, ratio: c.input.ratio, alpha: c.input.alpha, alternative: c.input.alternative, sd: c.input.sd });
    expect(compareToReference(r, c.expected, c.tolerance)).toEqual([]);
  });

  it.each(kind('prop_power'))('%s', (_n, c: ReferenceCase) => {
    const h = cohensH(c.input.p_treatment, c.input.p_control);
    const power = proportionPower({ h, nobs1: c.input.nobs1, ratio: c.input.ratio, alpha: c.input.alpha, alternative: c.input.alternative });
    expect(compareToReference({ effect_size_h: h, power }, c.expected, c.tolerance)).toEqual([]);
  });

  it.each(kind('prop_nobs1'))('%s', (_n, c: ReferenceCase) => {
    const h = cohensH(c.input.p_treatment, c.input.p_control);
    const r = proportionNobs1({ h, power: c.input.power, ratio: c.input.ratio, alpha: c.input.alpha, alternative: c.input.alternative });
    expect(compareToReference({ effect_size_h: h, ...r }, c.expected, c.tolerance)).toEqual([]);
  });

  it.each(kind('prop_mde'))('%s', (_n, c: ReferenceCase) => {
    const r = proportionMde({ pControl: c.input.p_control, nobs1: c.input.nobs1, power: c.input.power, ratio: c.input.ratio, alpha: c.input.alpha, alternative: c.input.alternative });
    expect(compareToReference(r, c.expected, c.tolerance)).toEqual([]);
  });
});

describe('noncentral t', () => {
  it('reduces to the central t when delta = 0', () => {
    for (const [t, df] of [[-2.5, 4], [0.3, 10], [1.96, 30.5], [4, 7]]) {
      expect(Math.abs(noncentralTCdf(t, df, 0) - studentTCdf(t, df))).toBeLessThan(1e-13);
    }
  });

  it('is monotone in delta and tends to the normal for large df', () => {
    expect(noncentralTCdf(1, 10, 0.5)).toBeGreaterThan(noncentralTCdf(1, 10, 1.5));
    // df → ∞: P(T' ≤ t) → Φ(t − δ)
    expect(Math.abs(noncentralTCdf(2, 1e7, 1) - 0.8413447460685429)).toBeLessThan(1e-6);
  });

  it('fewer degrees of freedom (adjustment) lower the power at the same effect', () => {
    const full = tTestPower({ effect_size: 0.8, nobs1: 10 });
    const fewer = tTestPower({ effect_size: 0.8, nobs1: 10, df: 12 });
    expect(fewer).toBeLessThan(full);
  });
});
