/**
 * The few-treated placebo randomization test (issue 12): p formula and CI inversion on hand cases,
 * the shift exposure of a re-assignment, the attainable-size rules, and its size and coverage on
 * simulated exchangeable panels (treated drawn at random), where Algorithm 4's control-only
 * placebos over-reject.
 */
import { createPrng } from '../design/prng';
import { plantLift, simulateFactorPanel } from './calibration-panels';
import { analyseFewTreated } from './few-treated';
import { permutationDecision, permutationDraws, permutationTestInversion, rankTestAttainableSize, rankTestDecision } from './randomization-test';
import type { PanelMatrix } from './synthdid';

describe('permutationTestInversion', () => {
  it('p = (1 + #{|τ_S| ≥ |τ̂|}) / (1 + M) and the CI is the set of τ0 with p(τ0) ≥ α (hand case, no exposure)', () => {
    const draws = [-3, 1, 2, -0.5, 4].map((estimate) => ({ estimate, exposure: 0 }));
    const r = permutationTestInversion(2.5, draws, 0.5);
    // |−3| and |4| are ≥ 2.5: p = 3/6
    expect(r.p_value).toBeCloseTo(3 / 6, 15);
    expect(r.replications).toBe(5);
    // p(τ0) ≥ 0.5 ⇔ at least 2 of the |τ_S| ≥ |2.5 − τ0| ⇔ |2.5 − τ0| ≤ 3 (the 2nd largest |τ_S|)
    expect(r.ci![0]).toBeCloseTo(-0.5, 12);
    expect(r.ci![1]).toBeCloseTo(5.5, 12);
  });

  it('with an exposed re-assignment the CI solves |a − τ0·c| ≥ |τ̂ − τ0| (hand case: roots 8/3 and 4)', () => {
    // (1 − τ0/2)² ≥ (3 − τ0)² ⇔ 0.75τ0² − 5τ0 + 8 ≤ 0 ⇔ τ0 ∈ [8/3, 4]
    const r = permutationTestInversion(3, [{ estimate: 1, exposure: 0.5 }], 0.6);
    expect(r.p_value).toBeCloseTo(0.5, 15);
    expect(r.ci![0]).toBeCloseTo(8 / 3, 12);
    expect(r.ci![1]).toBeCloseTo(4, 12);
  });

  it('returns a null CI when the test can never reject (M too small for α) and rejects bad α', () => {
    const r = permutationTestInversion(10, [{ estimate: 0, exposure: 0 }], 0.05);
    expect(r.p_value).toBeCloseTo(0.5, 15);
    expect(r.ci).toBeNull();
    expect(() => permutationTestInversion(1, [], 0)).toThrow(RangeError);
    expect(permutationTestInversion(1, [], 0.05).p_value).toBeNull();
  });
});

describe('attainable size and decision rules', () => {
  it('rankTestAttainableSize is #{c ≥ 1: c/(J + 1) < α}/(J + 1)', () => {
    expect(rankTestAttainableSize(29, 0.05)).toBeCloseTo(1 / 30, 15);
    expect(rankTestAttainableSize(39, 0.05)).toBeCloseTo(1 / 40, 15);
    expect(rankTestAttainableSize(100, 0.05)).toBeCloseTo(5 / 101, 15);
    expect(rankTestAttainableSize(19, 0.05)).toBe(0);
  });

  it('offers a rank test only when its size reaches 0.7·α, and the permutation p only for one treated', () => {
    expect(rankTestDecision(29, 0.05).offered).toBe(false);
    expect(rankTestDecision(29, 0.05).reason).toMatch(/3\.3%/);
    expect(rankTestDecision(25, 0.05).offered).toBe(true); // 1/26 = 3.8%
    expect(rankTestDecision(100, 0.05).offered).toBe(true);
    expect(permutationDecision(1, 25, 0.05).offered).toBe(true);
    expect(permutationDecision(1, 39, 0.05).offered).toBe(false);
    expect(permutationDecision(2, 25, 0.05).reason).toMatch(/not exchangeable/);
  });
});

describe('permutationDraws', () => {
  const rng = createPrng(5);
  const n = 7;
  const t = 8;
  const y = new Float64Array(n * t).map(() => 10 + rng.nextDouble() * 5);
  const panel = (shift: number): PanelMatrix => {
    const yy = new Float64Array(y);
    for (let i = 5; i < n; i++) for (let c = 5; c < t; c++) yy[i * t + c] -= shift;
    return { y: yy, n, t, n0: 5, t0: 5 };
  };

  it('enumerates every other set when there are at most B of them', () => {
    const r = permutationDraws(panel(0), 'did', 100, createPrng(1));
    expect(r.exhaustive).toBe(true);
    expect(r.draws).toHaveLength(21 - 1); // C(7, 2) − the treated set
  });

  it.each(['did', 'sc'] as const)('%s: a shift of the treated test weeks by −τ0 moves each re-assignment by −τ0·exposure', (est) => {
    const a = permutationDraws(panel(0), est, 100, createPrng(1)).draws;
    const b = permutationDraws(panel(2), est, 100, createPrng(1)).draws;
    a.forEach((d, j) => expect(b[j].estimate).toBeCloseTo(d.estimate - 2 * d.exposure, 6));
    expect(a.some((d) => d.exposure !== 0)).toBe(true);
  });
});

describe('size and coverage on simulated exchangeable panels (treated at random)', () => {
  // 12 territories × 12 weeks (8 pre), 3 treated, DiD: Algorithm 4's control-only placebos rejected
  // about 9% of true nulls here (a large territory among the treated is judged against smaller ones)
  it('rejects about α of true nulls and covers a planted lift about 1 − α of the time', () => {
    const rng = createPrng(99);
    const pilots = 400;
    let rejected = 0;
    let covered = 0;
    for (let i = 0; i < pilots; i++) {
      const p = simulateFactorPanel(rng, { units: 12, weeks: 12 });
      const treated = rng.shuffle([...new Set(p.unit)]).slice(0, 3);
      const o = { preWeeks: 8, replications: 100, seed: 1 + rng.nextInt(1e6), estimators: ['did'] as const, permutation: false, placeboSe: false, leaveOneOut: false };
      const e = analyseFewTreated(p, treated, o).estimates[0];
      if (e.p_value! < 0.05) rejected++;
      const planted = plantLift(p, treated, 8, 0.1);
      const ci = analyseFewTreated(planted.panel, treated, o).estimates[0].ci!;
      if (ci[0] <= planted.trueEffect && planted.trueEffect <= ci[1]) covered++;
    }
    // exact size 5/101 = 4.95%; Monte Carlo SE at n = 400 ≈ 1.1 points: ±3 SE
    const se = Math.sqrt((0.05 * 0.95) / pilots);
    expect(Math.abs(rejected / pilots - 0.05)).toBeLessThanOrEqual(3 * se);
    expect(Math.abs(covered / pilots - 0.95)).toBeLessThanOrEqual(3 * se);
  });
});
