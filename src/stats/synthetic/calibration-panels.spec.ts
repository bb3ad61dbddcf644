import { createPrng } from '../design/prng';
import {
  calibrationLine,
  CohortDeal,
  countCoverage,
  countNull,
  emptyTally,
  monteCarloSe,
  plantLift,
  simulateFactorPanel,
  weeklyCohortRevenuePanel,
} from './calibration-panels';

describe('weeklyCohortRevenuePanel', () => {
  // pre-period 2017-01-02 … 2017-01-15 (2 weeks), test 2017-01-16 … 2017-01-22 (1 week)
  const deals = new Map<string, CohortDeal[]>([
    [
      'b',
      [
        { engage_date: '2017-01-02', close_date: '2017-01-10', won: true, amount: 100 }, // week 0, closed in pre: counts
        { engage_date: '2017-01-08', close_date: '2017-01-20', won: true, amount: 7 }, // week 0, closed after pre end: not counted
        { engage_date: '2017-01-09', close_date: '2017-01-15', won: true, amount: 30 }, // week 1, closed on pre end: counts
        { engage_date: '2017-01-16', close_date: '2017-01-22', won: true, amount: 5 }, // week 2, closed on test end: counts
        { engage_date: '2017-01-17', close_date: '2017-01-18', won: false, amount: 999 }, // lost
        { engage_date: '2017-01-23', close_date: '2017-01-24', won: true, amount: 999 }, // after the test period
        { engage_date: '2016-12-30', close_date: '2017-01-03', won: true, amount: 999 }, // before the pre-period
      ],
    ],
    ['a', []],
  ]);

  it('sums won amounts by engage week, closed by the end of their window, with zeros for empty weeks', () => {
    const p = weeklyCohortRevenuePanel(deals, '2017-01-02', 2, 1);
    expect(p.unit).toEqual(['a', 'a', 'a', 'b', 'b', 'b']);
    expect(p.week).toEqual([0, 1, 2, 0, 1, 2]);
    expect(p.value).toEqual([0, 0, 0, 100, 30, 5]);
  });
});

describe('simulateFactorPanel', () => {
  it('is a complete, seeded panel with unequal territory sizes', () => {
    const a = simulateFactorPanel(createPrng(3), { units: 12, weeks: 10 });
    const b = simulateFactorPanel(createPrng(3), { units: 12, weeks: 10 });
    expect(a).toEqual(b);
    expect(a.unit.length).toBe(120);
    expect(new Set(a.unit).size).toBe(12);
    expect(a.value.every(Number.isFinite)).toBe(true);
    const means = [...new Set(a.unit)].map((u) => {
      const v = a.value.filter((_, r) => a.unit[r] === u);
      return v.reduce((s, x) => s + x, 0) / v.length;
    });
    // log-normal sizes with SD 1: the largest territory is several times the smallest
    expect(Math.max(...means) / Math.min(...means)).toBeGreaterThan(3);
  });
});

describe('plantLift', () => {
  it('multiplies only treated test-period cells and returns their mean added value', () => {
    const panel = { unit: ['a', 'a', 'b', 'b', 'c', 'c'], week: [0, 1, 0, 1, 0, 1], value: [10, 20, 30, 40, 50, 60] };
    const { panel: out, trueEffect } = plantLift(panel, ['a', 'b'], 1, 0.1);
    expect(out.value.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([10, 22, 30, 44, 50, 60]);
    expect(trueEffect).toBeCloseTo((2 + 4) / 2, 12);
    expect(panel.value).toEqual([10, 20, 30, 40, 50, 60]);
  });
});

describe('tallies and lines', () => {
  it('counts p < alpha as a rejection (a null p is counted, not rejected) and CIs that contain the truth', () => {
    const t = emptyTally();
    [0.01, 0.05, 0.049, null, 0.5].forEach((p) => countNull(t, p, 0.05));
    expect(t).toMatchObject({ n: 5, rejections: 2 });
    countCoverage(t, [0, 2], 2);
    countCoverage(t, [0, 2], 2.1);
    countCoverage(t, null, 0);
    expect(t).toMatchObject({ nPlanted: 3, covered: 1 });
  });

  it('prints the issue format with the Monte Carlo SEs, PASS only inside both ranges, NOT OFFERED with its reason', () => {
    const ok = { n: 1000, rejections: 51, nPlanted: 1000, covered: 948 };
    // MC SE: sqrt(0.051 · 0.949 / 1000) = 0.696 pp; sqrt(0.948 · 0.052 / 1000) = 0.702 pp
    expect(calibrationLine('crm', 2, 'sdid', ok, [0.035, 0.065], [0.93, 0.97])).toEqual({
      line: 'few-treated panel=crm k=2 method=sdid fpr=5.1% coverage=94.8% (n=1000, MC SE fpr 0.7 pp, coverage 0.7 pp) PASS',
      pass: true,
    });
    expect(calibrationLine('sim', 1, 'sc', { ...ok, covered: 990 }, [0.035, 0.065], [0.93, 0.97]).pass).toBe(false);
    const perm = calibrationLine('sim', 5, 'did-permutation', { n: 100, rejections: 2, nPlanted: 0, covered: 0 }, [0.035, 0.065], [0.93, 0.97]);
    expect(perm.line).toBe('few-treated panel=sim k=5 method=did-permutation fpr=2.0% coverage=n/a (n=100, MC SE fpr 1.4 pp) MISS');
    const off = calibrationLine('sim', 1, 'did-permutation', { n: 100, rejections: 2, nPlanted: 0, covered: 0 }, [0.035, 0.065], [0.93, 0.97], 'size 2.5%');
    expect(off).toEqual({ line: 'few-treated panel=sim k=1 method=did-permutation fpr=2.0% coverage=n/a (n=100, MC SE fpr 1.4 pp) NOT OFFERED: size 2.5%', pass: null });
  });

  it('monteCarloSe is the binomial SE of the observed rate', () => {
    expect(monteCarloSe(50, 1000)).toBeCloseTo(Math.sqrt((0.05 * 0.95) / 1000), 15);
    expect(monteCarloSe(0, 10)).toBe(0);
    expect(monteCarloSe(0, 0)).toBeNaN();
  });
});
