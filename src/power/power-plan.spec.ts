import { analyticPlan, simulatePlacebo, simulationFailure, varianceReduction } from './power-plan';

describe('varianceReduction (Frisch–Waugh residual variance)', () => {
  it('blocks only: the residual variance is the pooled within-block variance', () => {
    const y = [1, 3, 5, 11, 13, 15];
    const blocks = ['a', 'a', 'a', 'b', 'b', 'b'];
    const r = varianceReduction(y, null, blocks);
    // within SS = 8 + 8 = 16 on n − 1 − q = 4 df; total var = TSS/5 with TSS = 166
    expect(r.variance_ratio).toBeCloseTo(16 / 4 / (166 / 5), 12);
    expect(r).toMatchObject({ parameters: 1, blocks: 2, covariate_used: false });
  });

  it('a covariate: residual of the simple regression; missing x mean-imputed, never 0', () => {
    const y = [2, 4, 6, 8, 10.5];
    const x = [1, 2, 3, 4, null];
    const r = varianceReduction(y, x, null);
    expect(r.covariate_imputed).toBe(1);
    expect(r.covariate_used).toBe(true);
    // x imputed as 2.5: by hand, slope = Σxy/Σxx over centred values
    const xs = [1, 2, 3, 4, 2.5];
    const mx = xs.reduce((s, v) => s + v, 0) / 5;
    const my = y.reduce((s, v) => s + v, 0) / 5;
    const sxy = xs.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0);
    const sxx = xs.reduce((s, v) => s + (v - mx) ** 2, 0);
    const rss = y.reduce((s, v, i) => s + (v - my - (sxy / sxx) * (xs[i] - mx)) ** 2, 0);
    const tss = y.reduce((s, v) => s + (v - my) ** 2, 0);
    expect(r.variance_ratio).toBeCloseTo(rss / 3 / (tss / 4), 12);
  });
});

describe('analyticPlan', () => {
  const arms = [
    { key: 'control', role: 'control' as const, count: 6 },
    { key: 'treatment', role: 'treatment' as const, count: 6 },
  ];
  const y = [10, 12, 9, 14, 11, 13, 8, 15, 10, 12, 11, 9];

  it('falls back when the covariate explains the KPI exactly (σ would be 0), and says so', () => {
    const p = analyticPlan({ y, x: y.map((v) => 2 * v + 1), blocks: null, paired: false, arms, alpha: 0.05, power: 0.8, lifts: [0.1], target_mde: null });
    expect(p.adjustment.covariate_used).toBe(false);
    expect(p.adjustment.note).toMatch(/explains the reference-window KPI exactly/);
    expect(p.adjusted_sd).toBeGreaterThan(0);
  });

  it('more territories are needed for a smaller target MDE; fewer than 4 values is a RangeError', () => {
    const base = { y, x: null, blocks: null, paired: false, arms, alpha: 0.05, power: 0.8, lifts: [0.1] };
    const small = analyticPlan({ ...base, target_mde: 0.05 }).comparisons[0].territories_needed!;
    const large = analyticPlan({ ...base, target_mde: 0.2 }).comparisons[0].territories_needed!;
    expect(small.total).toBeGreaterThan(large.total);
    expect(() => analyticPlan({ ...base, y: [1, 2, null, null], target_mde: null })).toThrow(RangeError);
  });
});

describe('the analytic MDE names the method it applies to (issue 16)', () => {
  const arms = [
    { key: 'control', role: 'control' as const, count: 6 },
    { key: 'treatment', role: 'treatment' as const, count: 6 },
  ];
  const y = [10, 12, 9, 14, 11, 13, 8, 15, 10, 12, 11, 9];
  const x = [9.5, 12.2, 8.1, 13.6, 10.4, 12.9, 8.3, 14.1, 9.7, 11.2, 10.9, 8.8];

  it('with the pre-period KPI: an approximation for Lin’s regression adjustment, with its assumptions', () => {
    const p = analyticPlan({ y, x, blocks: null, paired: false, arms, alpha: 0.05, power: 0.8, lifts: [0.1], target_mde: null });
    expect(p.applies_to.method).toBe('lin_regression_adjustment');
    expect(p.applies_to.analysis).toMatch(/adjusted by OLS for the pre-period KPI/);
    expect(p.applies_to.assumptions.join(' ')).toMatch(/normal errors.*constant additive effect/);
    expect(p.applies_to.note).toMatch(/approximation for Lin's regression adjustment, not the power of the report's deciding method/);
  });

  it('without a covariate: an approximation for Welch', () => {
    const p = analyticPlan({ y, x: null, blocks: null, paired: false, arms, alpha: 0.05, power: 0.8, lifts: [0.1], target_mde: null });
    expect(p.applies_to).toMatchObject({ method: 'welch', analysis: 't-test on the difference in means (no adjustment)' });
  });
});

describe('simulatePlacebo', () => {
  it('is reproducible, yields progress, and a huge planted lift is always detected', () => {
    const units = Array.from({ length: 12 }, (_, i) => ({ code: `U${i}`, stratum: 'all', covariates: {} }));
    const window = { outcome: { start: '2024-01-01', end: '2024-01-31' }, pre: { start: '2023-12-01', end: '2023-12-31' }, units, y: units.map((_, i) => 100 + ((i * 37) % 11)), x: units.map((_, i) => 90 + ((i * 13) % 7)) };
    const spec = { type: 'complete' as const, arms: [{ key: 'control', role: 'control' as const, count: 6 }, { key: 'treatment', role: 'treatment' as const, count: 6 }] };
    const run = () => {
      const g = simulatePlacebo({ windows: [window], spec, seed: 1, simulations: 30, lifts: [3], alpha: 0.05, chunk: 10 });
      const progress: number[] = [];
      for (;;) {
        const s = g.next();
        if (s.done) return { progress, result: s.value };
        progress.push(s.value);
      }
    };
    const a = run();
    expect(a.progress).toEqual([10, 20]);
    expect(run().result).toEqual(a.result);
    for (const m of a.result.methods) expect(m.detection[0].rate).toBe(1);
  });

  it('a window without pre-period data runs Welch only (Lin is not fed zeros)', () => {
    const units = Array.from({ length: 12 }, (_, i) => ({ code: `U${i}`, stratum: 'all', covariates: {} }));
    const window = { outcome: { start: '2024-01-01', end: '2024-01-31' }, pre: { start: '2023-12-01', end: '2023-12-31' }, units, y: units.map((_, i) => 100 + ((i * 37) % 11)), x: units.map(() => null), pre_complete: false };
    const spec = { type: 'complete' as const, arms: [{ key: 'control', role: 'control' as const, count: 6 }, { key: 'treatment', role: 'treatment' as const, count: 6 }] };
    const g = simulatePlacebo({ windows: [window], spec, seed: 2, simulations: 20, lifts: [0.1], alpha: 0.05 });
    let s = g.next();
    while (!s.done) s = g.next();
    const [welch, lin] = s.value.methods;
    expect(welch.false_positive_rate.n).toBe(20);
    expect(lin.false_positive_rate).toMatchObject({ n: 0, rate: null });
    expect(s.value.windows[0].pre_complete).toBe(false);
  });
});


describe('simulatePlacebo never fails silently', () => {
  const units = Array.from({ length: 12 }, (_, i) => ({ code: `U${i}`, stratum: 'all', covariates: {} }));
  const window = { outcome: { start: '2024-01-01', end: '2024-01-31' }, pre: { start: '2023-12-01', end: '2023-12-31' }, units, y: units.map((_, i) => 100 + ((i * 37) % 11)), x: units.map(() => null) };
  const finish = (spec: any) => {
    const g = simulatePlacebo({ windows: [window], spec, seed: 3, simulations: 20, lifts: [0.1], alpha: 0.05 });
    let s = g.next();
    while (!s.done) s = g.next();
    return s.value;
  };

  it('a design that cannot be drawn: every pilot skipped, the reason counted, and simulationFailure says why', () => {
    const spec = { type: 'complete' as const, arms: [{ key: 'control', role: 'control' as const, count: 10 }, { key: 'treatment', role: 'treatment' as const, count: 10 }] };
    const r = finish(spec);
    expect(r.skipped).toBe(20);
    expect(r.skip_reasons).toHaveLength(1);
    expect(r.skip_reasons[0].count).toBe(20);
    expect(r.skip_reasons[0].reason).toMatch(/design could not be drawn on the window 2024-01-01\.\.2024-01-31/);
    const failure = simulationFailure(r);
    expect(failure).toMatch(/none of the 20 placebo pilots could be analysed: 20× the design could not be drawn/);
  });

  it('a simulation with rates is not a failure', () => {
    const spec = { type: 'complete' as const, arms: [{ key: 'control', role: 'control' as const, count: 6 }, { key: 'treatment', role: 'treatment' as const, count: 6 }] };
    const r = finish(spec);
    expect(r.skipped).toBe(0);
    expect(r.skip_reasons).toEqual([]);
    expect(simulationFailure(r)).toBeNull();
  });
});
