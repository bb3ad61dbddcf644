import { createPrng } from '../design/prng';
import { normalInv } from '../distributions';
import { FewTreatedInputError } from './few-treated';
import { fitSynth } from './synthdid';
import { selectTreatedSet, TreatedSelectionInput } from './treated-selection';

/**
 * A simulated pool of 14 territories × 40 pre-period weeks: level + loading × a common seasonal
 * factor + idiosyncratic noise. Candidates U01..U05 (loadings 0.9–0.94, inside the donors' range):
 * U01 and U02 are quiet (noise SD 0.2), U03..U05 noisy (SD 8). D01..D09 are quiet donors (loadings
 * 0.6–1.2) that are never treated. Any set with a noisy territory has a wide backtest spread, so
 * {U01, U02} is clearly the best pair.
 */
function simulatedPool(seed = 5): TreatedSelectionInput & { values: number[][]; excluded: string[] } {
  const rng = createPrng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
  const T0 = 40;
  const factor = Array.from({ length: T0 }, (_, t) => 20 * Math.sin(t / 4) + 0.5 * t);
  const units = [...Array.from({ length: 5 }, (_, i) => `U${String(i + 1).padStart(2, '0')}`), ...Array.from({ length: 9 }, (_, i) => `D${String(i + 1).padStart(2, '0')}`)];
  const values = units.map((u, i) => {
    const sd = i >= 2 && i < 5 ? 8 : 0.2;
    const load = u.startsWith('D') ? 0.6 + 0.075 * (i - 5) : 0.9 + 0.01 * i;
    return factor.map((f) => 100 + 7 * i + load * f + sd * gauss());
  });
  return { units, values, k: 2, excluded: units.filter((u) => u.startsWith('D')) };
}

const z = normalInv(0.975) + normalInv(0.8);

function sampleSd(x: number[]): number {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1));
}

function thrown(fn: () => unknown): FewTreatedInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FewTreatedInputError) return err;
    throw err;
  }
  throw new Error('expected a FewTreatedInputError');
}

describe('selectTreatedSet (placebo-backtest treated-set selection)', () => {
  const pool = simulatedPool();

  it('ranks the clearly best set first, exhaustively when C(n, k) is small, with MDE = (z_0.975 + z_0.8)·sd and score = MDE + |bias|', () => {
    const r = selectTreatedSet(pool, { seed: 1 });
    expect(r.search).toBe('exhaustive');
    expect(r.candidate_sets_total).toBe(10);
    expect(r.candidates_scored).toBe(10);
    expect(r.ranked).toHaveLength(10);
    expect(r.ranked[0].treated).toEqual(['U01', 'U02']);
    // the quiet pair is far better than the runner-up (a clear winner, not a coin flip)
    expect(r.ranked[1].score).toBeGreaterThan(3 * r.ranked[0].score);
    expect(r.windows).toEqual([
      // L = floor((40 − 4) / 4) = 9 weeks
      { history_weeks: 31, start: 31, end: 40 },
      { history_weeks: 22, start: 22, end: 31 },
      { history_weeks: 13, start: 13, end: 22 },
      { history_weeks: 4, start: 4, end: 13 },
    ]);
    for (const [i, c] of r.ranked.entries()) {
      expect(c.rank).toBe(i + 1);
      expect(c.backtest_estimates).toHaveLength(4);
      const mean = c.backtest_estimates.reduce((a, b) => a + b, 0) / 4;
      expect(c.placebo_bias).toBeCloseTo(mean, 10);
      expect(c.mde).toBeCloseTo(z * sampleSd(c.backtest_estimates), 10);
      expect(c.score).toBeCloseTo(c.mde + Math.abs(c.placebo_bias), 10);
      if (i > 0) expect(c.score).toBeGreaterThanOrEqual(r.ranked[i - 1].score);
    }
  });

  it("a backtest estimate is SDID's estimate on the window's sub-panel (treated block last, no effect applied)", () => {
    const r = selectTreatedSet(pool, { seed: 1 });
    const best = r.ranked[0];
    const w = r.windows[1];
    const order = [...pool.units.filter((u) => !best.treated.includes(u)), ...best.treated];
    const y = new Float64Array(order.length * w.end);
    order.forEach((u, i) => y.set(pool.values[pool.units.indexOf(u)].slice(0, w.end), i * w.end));
    const direct = fitSynth({ y, n: order.length, t: w.end, n0: order.length - 2, t0: w.start }, 'sdid').estimate;
    expect(best.backtest_estimates[1]).toBeCloseTo(direct, 10);
  });

  it('forced territories are in every candidate, never-treated ones in none', () => {
    const forced = selectTreatedSet({ ...pool, forced: ['U05'] }, { seed: 1, top: 100 });
    expect(forced.candidates_scored).toBe(4);
    for (const c of forced.ranked) expect(c.treated).toContain('U05');
    // with a noisy territory forced in, the quiet partner is still preferred
    expect(forced.ranked[3].treated).not.toEqual(forced.ranked[0].treated);
    const excluded = selectTreatedSet({ ...pool, excluded: [...pool.excluded, 'U01'] }, { seed: 1, top: 100 });
    expect(excluded.candidates_scored).toBe(6);
    for (const c of excluded.ranked) expect(c.treated).not.toContain('U01');
    for (const c of excluded.ranked) for (const d of pool.excluded) expect(c.treated).not.toContain(d);
  });

  it('the cap on the treated share of pre-period revenue removes the sets above it', () => {
    // revenue proportional to the level; U01 + U02 hold the smallest share, so cap just below it ... and above
    const revenue = pool.values.map((row) => row.reduce((a, b) => a + b, 0));
    const total = revenue.reduce((a, b) => a + b, 0);
    const quietShare = (revenue[0] + revenue[1]) / total;
    const open = selectTreatedSet({ ...pool, cap: { values: revenue, maxShare: quietShare + 1e-9 } }, { seed: 1, top: 100 });
    expect(open.ranked.map((c) => c.treated.join())).toEqual(['U01,U02']);
    expect(open.candidates_over_cap).toBe(9);
    const middle = (revenue[0] + revenue[3]) / total + 1e-9; // U01 + U04
    const wider = selectTreatedSet({ ...pool, cap: { values: revenue, maxShare: middle } }, { seed: 1, top: 100 });
    expect(wider.candidates_over_cap).toBeGreaterThan(0);
    expect(wider.candidates_scored).toBeGreaterThan(1);
    expect(wider.candidates_scored + wider.candidates_over_cap).toBe(10);
    for (const c of wider.ranked) expect(c.treated_share!).toBeLessThanOrEqual(middle);
    expect(wider.ranked.map((c) => c.treated.join())).not.toContain('U04,U05');
    const err = thrown(() => selectTreatedSet({ ...pool, cap: { values: revenue, maxShare: quietShare - 1e-6 } }, { seed: 1 }));
    expect(err.code).toBe('CAP_EXCLUDES_ALL');
    expect(err.details.smallest_attainable_share).toBeCloseTo(quietShare, 12);
  });

  it('the seeded search: same seed, same candidates and ranking; another seed, other candidates', () => {
    // every territory treatable: C(14, 2) = 91 sets, more than the exhaustive limit of 10
    const all = { ...pool, excluded: [] };
    const opts = { exhaustiveLimit: 10, candidates: 12, top: 12 };
    const a = selectTreatedSet(all, { seed: 7, ...opts });
    const b = selectTreatedSet(all, { seed: 7, ...opts });
    const c = selectTreatedSet(all, { seed: 8, ...opts });
    expect(a.candidate_sets_total).toBe(91);
    expect(a.search).toBe('seeded_sample');
    expect(a.candidates_scored).toBe(12);
    expect(b).toEqual(a);
    const sets = (x: typeof a) => x.ranked.map((r) => r.treated.join()).sort();
    expect(new Set(sets(a)).size).toBe(12);
    expect(sets(c)).not.toEqual(sets(a));
    for (const r of a.ranked) expect(r.treated).toHaveLength(2);
  });

  it('bad input: k larger than the pool, too short a pre-period, forced above k, unknown codes', () => {
    expect(thrown(() => selectTreatedSet({ ...pool, k: 7 }, { seed: 1 })).code).toBe('K_EXCEEDS_POOL');
    expect(thrown(() => selectTreatedSet({ ...pool, k: 6 }, { seed: 1 })).code).toBe('SELECTION_INFEASIBLE'); // only 5 may be treated
    const short = { ...pool, values: pool.values.map((r) => r.slice(0, 7)) };
    const e = thrown(() => selectTreatedSet(short, { seed: 1 }));
    expect(e.code).toBe('PRE_PERIOD_TOO_SHORT');
    expect(e.details).toMatchObject({ pre_weeks: 7, min_pre_weeks: 8 });
    expect(thrown(() => selectTreatedSet({ ...pool, forced: ['U01', 'U02', 'U03'] }, { seed: 1 })).code).toBe('SELECTION_INFEASIBLE');
    expect(thrown(() => selectTreatedSet({ ...pool, forced: ['X'] }, { seed: 1 })).code).toBe('SELECTION_INFEASIBLE');
    expect(thrown(() => selectTreatedSet({ ...pool, forced: ['U01'], excluded: ['U01'] }, { seed: 1 })).code).toBe('SELECTION_INFEASIBLE');
  });
});
