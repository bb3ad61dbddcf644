/**
 * Second route: test/fixtures/synthetic/second_route.json, computed by second_route.py (beside it)
 * with scipy's SLSQP on the same objectives (exact minimisers, no sparsify step) on a simulated
 * 16 × 17 panel with 2 treated units.
 */
import { loadFixture } from '../../../test/fixtures/load-fixture';
import { fitSynth, noiseLevel, PanelMatrix } from './synthdid';
import { analyseFewTreated, assertKFitsPool, FewTreatedInputError } from './few-treated';

const fx = loadFixture('synthetic/second_route.json');
const p: PanelMatrix = { y: Float64Array.from(fx.Y.flat()), n: fx.N0 + fx.N1, t: fx.T0 + fx.T1, n0: fx.N0, t0: fx.T0 };

describe('DiD / SC / SDID against the scipy second route', () => {
  it('noise level σ', () => expect(noiseLevel(p)).toBeCloseTo(fx.sigma, 8));
  it('DiD equals the double difference', () => expect(fitSynth(p, 'did').estimate).toBeCloseTo(fx.did, 8));
  it.each(['sc', 'sdid'])('%s matches the exact regularised minimiser (Frank-Wolfe + sparsify vs SLSQP)', (e) => {
    const f = fitSynth(p, e as 'sc' | 'sdid');
    expect(Math.abs(f.estimate - fx[e])).toBeLessThan(0.005 * fx.sigma);
    expect(f.omega.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Math.min(...f.omega)).toBeGreaterThanOrEqual(0);
  });
  it('jackknife SE is defined with 2 treated and the analysis runs end to end', () => {
    const unit: string[] = [];
    const week: number[] = [];
    const value: number[] = [];
    for (let i = 0; i < p.n; i++) for (let c = 0; c < p.t; c++) {
      unit.push(i < p.n0 ? `c${String(i).padStart(2, '0')}` : `t${i}`);
      week.push(c);
      value.push(p.y[i * p.t + c]);
    }
    const r = analyseFewTreated({ unit, week, value }, [`t${p.n0}`, `t${p.n0 + 1}`], { preWeeks: p.t0, replications: 50 });
    for (const e of r.estimates) {
      expect(e.estimate).toBeCloseTo(fx[e.estimator], 1);
      expect(e.jackknife_se).toBeGreaterThan(0);
      expect(e.series).toHaveLength(p.t);
      expect(e.placebo_gaps).toHaveLength(p.n0);
    }
  });
});

describe('few-treated input errors carry a code for the API', () => {
  const panel = { unit: ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b'], week: [0, 1, 2, 3, 4, 0, 1, 2, 3, 4], value: [1, 2, 3, 4, 5, 2, 3, 4, 5, 6] };
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return (e as FewTreatedInputError).code;
    }
    return undefined;
  };
  it('names each bad input', () => {
    expect(code(() => analyseFewTreated(panel, ['a'], { preWeeks: 3 }))).toBe('PRE_PERIOD_TOO_SHORT');
    expect(code(() => analyseFewTreated(panel, ['a'], { preWeeks: 4 }))).toBe('K_EXCEEDS_POOL');
    expect(code(() => analyseFewTreated({ unit: panel.unit.slice(1), week: panel.week.slice(1), value: panel.value.slice(1) }, ['a'], { preWeeks: 4 }))).toBe('TREATED_MISSING_WEEKS');
    expect(code(() => analyseFewTreated(panel, ['a', 'b'], { preWeeks: 4 }))).toBe('EMPTY_DONOR_POOL');
    expect(code(() => assertKFitsPool(3, 6))).toBe('K_EXCEEDS_POOL');
    expect(code(() => assertKFitsPool(2, 5))).toBeUndefined();
  });
});
