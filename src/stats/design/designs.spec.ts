import { DesignError } from './allocation';
import { DESIGN_ALGORITHM_VERSION_V2, drawDesign, DesignUnit, matchedBlocks, randomizationDesignFromStored } from './designs';
import { chiSquareQuantile, mahalanobisBalance } from './mahalanobis';
import { normalInv } from '../distributions';
import { countAssignments, drawAssignment, DESIGN_ALGORITHM_VERSION, enumerateAssignments } from './randomization';

// 21 made-up territories with a skewed pre-period revenue and a headcount
const units: DesignUnit[] = Array.from({ length: 21 }, (_, i) => ({
  code: `T${String(i + 1).padStart(2, '0')}`,
  stratum: i % 3 === 0 ? 'East' : i % 3 === 1 ? 'West' : 'North',
  covariates: { pre_period_revenue_won: Math.round(1000 * Math.exp((i * 7) % 11 / 4)), headcount: 3 + ((i * 5) % 7) },
}));
const twoArms = [
  { key: 'control', role: 'control' as const, ratio: 1 },
  { key: 'treatment', role: 'treatment' as const, ratio: 1 },
];

describe('drawDesign: plain designs are drawAssignment unchanged', () => {
  it.each(['complete', 'stratified'] as const)('%s: identical arms, strata and algorithm version for the same seed', (type) => {
    for (const seed of [0, 1, 42, 20261130]) {
      const v1 = drawAssignment(units.map((u) => ({ code: u.code, stratum: u.stratum })), { type, arms: twoArms, seed });
      const d = drawDesign(units, { type, arms: twoArms, seed });
      expect(d.arms).toEqual(v1.arms);
      expect(d.strata).toEqual(v1.strata);
      expect(d.algorithm_version).toBe(DESIGN_ALGORITHM_VERSION);
    }
  });

  it('exclusions remove territories before the draw and are reported', () => {
    const d = drawDesign(units, { type: 'complete', arms: twoArms, seed: 3, constraints: { exclude: ['T05', 'T01'] } });
    expect(Object.keys(d.arms)).toHaveLength(19);
    expect(d.arms.T05).toBeUndefined();
    expect(d.left_out).toEqual([
      { code: 'T01', reason: 'excluded' },
      { code: 'T05', reason: 'excluded' },
    ]);
    expect(() => drawDesign(units, { type: 'complete', arms: twoArms, seed: 3, constraints: { exclude: ['NOPE'] } })).toThrow(DesignError);
  });
});

describe('matched pairs', () => {
  it('optimal 1-D pairing leaves out the odd territory that minimises the total within-pair distance', () => {
    // sorted values 1, 2, 10, 11, 50: best is (1,2)(10,11) leaving 50 out (cost 2), not (2,10)... or (1,2)(11,50)
    const r = matchedBlocks(
      [
        { code: 'E', value: 50 },
        { code: 'A', value: 1 },
        { code: 'C', value: 10 },
        { code: 'B', value: 2 },
        { code: 'D', value: 11 },
      ],
      2,
    );
    expect(r.blocks.map((b) => b.codes)).toEqual([['A', 'B'], ['C', 'D']]);
    expect(r.leftOver).toEqual(['E']);
    // the middle one is left out when that is cheapest: 1, 2, 30, 60, 61
    const mid = matchedBlocks(
      [1, 2, 30, 60, 61].map((value, i) => ({ code: `U${i}`, value })),
      2,
    );
    expect(mid.leftOver).toEqual(['U2']);
    expect(mid.blocks.reduce((s, b) => s + b.spread, 0)).toBe(2);
  });

  it('brute force agrees: no other choice of the left-out unit and adjacent pairs has a smaller total', () => {
    const values = [3, 8, 9, 15, 22, 23, 40, 41, 42];
    const r = matchedBlocks(values.map((value, i) => ({ code: `U${i}`, value })), 2);
    const total = r.blocks.reduce((s, b) => s + b.spread, 0);
    let best = Infinity;
    for (let skip = 0; skip < values.length; skip++) {
      const rest = values.filter((_, i) => i !== skip);
      let c = 0;
      for (let i = 0; i < rest.length; i += 2) c += rest[i + 1] - rest[i];
      best = Math.min(best, c);
    }
    expect(total).toBe(best);
  });

  it('one territory of each pair is treated, the odd one is out, pairs are reproducible', () => {
    const spec = { type: 'matched_pairs' as const, arms: twoArms, seed: 11, pair_on: 'pre_period_revenue_won' };
    const a = drawDesign(units, spec);
    const b = drawDesign([...units].reverse(), spec);
    expect(b).toEqual(a);
    expect(a.algorithm_version).toBe(DESIGN_ALGORITHM_VERSION_V2);
    expect(a.pairs).toHaveLength(10);
    expect(a.left_out.filter((x) => x.reason === 'odd_one_out')).toHaveLength(1);
    for (const p of a.pairs!) {
      expect(p.codes.map((c) => a.arms[c]).sort()).toEqual(['control', 'treatment']);
      for (const c of p.codes) expect(a.unit_strata[c]).toBe(p.pair);
    }
    // pairs are sorted on the pairing variable
    const firsts = a.pairs!.map((p) => p.values[0]);
    expect([...firsts].sort((x, y) => x - y)).toEqual(firsts);
  });

  it('multi-arm: blocks of one territory per arm (3 arms)', () => {
    const arms = [...twoArms, { key: 'specialist', role: 'treatment' as const, ratio: 1 }];
    const d = drawDesign(units, { type: 'matched_pairs', arms, seed: 5, pair_on: 'headcount' });
    expect(d.pairs).toHaveLength(7);
    for (const p of d.pairs!) expect(p.codes.map((c) => d.arms[c]).sort()).toEqual(['control', 'specialist', 'treatment']);
  });

  it('a missing pairing value is a DesignError naming the territory', () => {
    const broken = units.map((u, i) => (i === 4 ? { ...u, covariates: { headcount: 3 } } : u));
    expect(() => drawDesign(broken, { type: 'matched_pairs', arms: twoArms, seed: 1, pair_on: 'pre_period_revenue_won' })).toThrow(/T05/);
  });

  it('seeds reach both orientations of every pair (randomization within pairs)', () => {
    const seen = new Map<string, Set<string>>();
    for (let seed = 0; seed < 40; seed++) {
      const d = drawDesign(units, { type: 'matched_pairs', arms: twoArms, seed, pair_on: 'pre_period_revenue_won' });
      for (const p of d.pairs!) {
        const s = seen.get(p.pair) ?? new Set<string>();
        s.add(d.arms[p.codes[0]]);
        seen.set(p.pair, s);
      }
    }
    for (const s of seen.values()) expect(s.size).toBe(2);
  });
});

describe('rerandomization', () => {
  it('threshold is the chi-square quantile at the acceptance probability; the accepted draw meets it', () => {
    const d = drawDesign(units, {
      type: 'rerandomization',
      arms: twoArms,
      seed: 9,
      rerandomization: { covariates: ['pre_period_revenue_won', 'headcount'], acceptance_probability: 0.05 },
    });
    const r = d.rerandomization!;
    // χ²_2 quantile has the closed form −2 ln(1 − p)
    expect(r.threshold).toBeCloseTo(-2 * Math.log(1 - 0.05), 12);
    expect(r.df).toBe(2);
    expect(r.mahalanobis).toBeLessThanOrEqual(r.threshold);
    expect(d.draws_tried).toBeGreaterThanOrEqual(1);
    expect(d.draws_accepted).toBe(1);
    // the recorded M equals the balance-table M of the same assignment
    const codes = Object.keys(d.arms).sort();
    const m = mahalanobisBalance(
      ['pre_period_revenue_won', 'headcount'],
      codes.map((c) => units.find((u) => u.code === c)!.covariates!),
      codes.map((c) => (d.arms[c] === 'control' ? 0 : 1)),
      2,
    )!;
    expect(m.distance).toBeCloseTo(r.mahalanobis, 10);
    expect(drawDesign(units, { type: 'rerandomization', arms: twoArms, seed: 9, rerandomization: { covariates: ['pre_period_revenue_won', 'headcount'], acceptance_probability: 0.05 } })).toEqual(d);
  });

  it('acceptance rate over many seeds is close to the stated probability (asymptotic χ²)', () => {
    // with acceptance probability 0.2, the number of draws until acceptance is ~ geometric(≈0.2)
    let tries = 0;
    const seeds = 150;
    for (let seed = 0; seed < seeds; seed++) {
      tries += drawDesign(units, { type: 'rerandomization', arms: twoArms, seed, rerandomization: { covariates: ['headcount'], acceptance_probability: 0.2 } }).draws_tried;
    }
    const rate = seeds / tries;
    // finite-population M is not exactly χ²(1); accept a generous band around 0.2
    expect(rate).toBeGreaterThan(0.12);
    expect(rate).toBeLessThan(0.3);
  });

  it('M equals the two-arm Morgan–Rubin form n_T n_C / n (x̄_T − x̄_C)² / s² for one covariate', () => {
    const x = [1, 4, 2, 8, 5, 7];
    const arm = [1, 1, 1, 0, 0, 0];
    const m = mahalanobisBalance(['x'], x.map((v) => ({ x: v })), arm, 2)!;
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    const all = mean(x);
    const s2 = x.reduce((s, v) => s + (v - all) ** 2, 0) / (x.length - 1);
    const diff = mean([1, 4, 2]) - mean([8, 5, 7]);
    expect(m.distance).toBeCloseTo(((3 * 3) / 6) * (diff * diff) / s2, 12);
    expect(m.df).toBe(1);
  });

  it('chi-square quantiles match closed forms (df 1: z², df 2: −2 ln(1 − p))', () => {
    for (const p of [0.001, 0.01, 0.05, 0.5, 0.9]) {
      expect(chiSquareQuantile(p, 2)).toBeCloseTo(-2 * Math.log1p(-p), 10);
      const z = normalInv((1 + p) / 2);
      expect(Math.abs(chiSquareQuantile(p, 1) - z * z)).toBeLessThan(1e-10 * Math.max(1, z * z));
    }
  });

  it('an impossible rule fails with DesignError instead of looping forever', () => {
    expect(() =>
      drawDesign(units, { type: 'rerandomization', arms: twoArms, seed: 1, max_draws: 3, rerandomization: { covariates: ['headcount'], acceptance_probability: 1e-9 } }),
    ).toThrow(/no assignment met the acceptance rule in 3 draws/);
  });
});

describe('constraints', () => {
  it('forced territories are always in their arm; counts stay exact', () => {
    for (let seed = 0; seed < 30; seed++) {
      const d = drawDesign(units, {
        type: 'stratified',
        arms: twoArms,
        seed,
        constraints: { force: [{ code: 'T01', arm: 'treatment' }, { code: 'T02', arm: 'control' }] },
      });
      expect(d.arms.T01).toBe('treatment');
      expect(d.arms.T02).toBe('control');
      expect(Object.values(d.arms).filter((a) => a === 'treatment')).toHaveLength(10);
      expect(d.algorithm_version).toBe(DESIGN_ALGORITHM_VERSION_V2);
    }
  });

  it('forcing more territories into an arm than its places is infeasible', () => {
    const force = units.slice(0, 12).map((u) => ({ code: u.code, arm: 'treatment' }));
    expect(() => drawDesign(units, { type: 'complete', arms: twoArms, seed: 1, constraints: { force } })).toThrow(/too many territories forced/);
  });

  it('the treated share of pre-period revenue never exceeds the cap', () => {
    const total = units.reduce((s, u) => s + (u.covariates!.pre_period_revenue_won as number), 0);
    for (let seed = 0; seed < 30; seed++) {
      const d = drawDesign(units, {
        type: 'complete',
        arms: twoArms,
        seed,
        constraints: { max_treated_share: { covariate: 'pre_period_revenue_won', max_share: 0.4 } },
      });
      const treated = units.filter((u) => d.arms[u.code] === 'treatment').reduce((s, u) => s + (u.covariates!.pre_period_revenue_won as number), 0);
      expect(treated / total).toBeLessThanOrEqual(0.4);
      expect(d.constraints!.max_treated_share!.realised_share).toBeCloseTo(treated / total, 12);
    }
  });

  it('multi-arm: control and 4 treatments with exact counts; more than 5 arms is refused', () => {
    const arms = ['control', 't1', 't2', 't3', 't4'].map((key, i) => ({ key, role: (i === 0 ? 'control' : 'treatment') as 'control' | 'treatment', ratio: 1 }));
    const d = drawDesign(units, { type: 'complete', arms, seed: 2, constraints: { force: [{ code: 'T03', arm: 't4' }] } });
    const counts = Object.values(d.arms).reduce<Record<string, number>>((m, a) => ({ ...m, [a]: (m[a] ?? 0) + 1 }), {});
    expect(counts).toEqual({ control: 5, t1: 4, t2: 4, t3: 4, t4: 4 });
    expect(d.arms.T03).toBe('t4');
    expect(() => drawDesign(units, { type: 'complete', arms: [...arms, { key: 't5', role: 'treatment', ratio: 1 }], seed: 2 })).toThrow(/at most 5 arms/);
  });
});

describe('randomizationDesignFromStored', () => {
  it('re-draws only assignments the design could produce: forced fixed, pairs as strata, acceptance rule', () => {
    const spec = {
      type: 'rerandomization' as const,
      arms: twoArms,
      seed: 4,
      rerandomization: { covariates: ['headcount'], acceptance_probability: 0.3 },
      constraints: { force: [{ code: 'T01', arm: 'treatment' }] },
    };
    const small = units.slice(0, 8);
    const d = drawDesign(small, spec);
    const stored = small.map((u) => ({ code: u.code, arm: d.arms[u.code], stratum: d.unit_strata[u.code], covariates: u.covariates }));
    const rd = randomizationDesignFromStored({ ...spec, constraints: { forced: d.constraints!.forced } }, stored);
    // 7 free units with 3 treated: C(7,3) = 35 assignments before the acceptance rule
    expect(countAssignments(rd.template).count).toBe(35);
    let accepted = 0;
    let observedSeen = false;
    const observed = stored.map((u) => (u.arm === 'control' ? 0 : 1)).join('');
    for (const labels of enumerateAssignments(rd.template)) {
      expect(labels[0]).toBe(1); // T01 forced into treatment
      if (rd.accept!(labels)) {
        accepted++;
        if (Array.from(labels).join('') === observed) observedSeen = true;
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(35);
    expect(observedSeen).toBe(true);
  });
});
