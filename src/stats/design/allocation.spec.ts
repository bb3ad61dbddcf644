import fc from 'fast-check';
import { allocateCounts, DesignError, stratumTargets } from './allocation';
import { createPrng } from './prng';

describe('allocateCounts', () => {
  it('keeps exact counts that sum to the number of territories', () => {
    expect(allocateCounts(10, [{ key: 'control', count: 4 }, { key: 'treatment', count: 6 }])).toEqual({ control: 4, treatment: 6 });
  });

  it('throws a DesignError naming the totals when counts do not add up', () => {
    expect(() => allocateCounts(10, [{ key: 'control', count: 4 }, { key: 'treatment', count: 5 }])).toThrow(DesignError);
    expect(() => allocateCounts(10, [{ key: 'control', count: 4 }, { key: 'treatment', count: 5 }])).toThrow(/add up to 9 but there are 10/);
  });

  it('rounds ratios by largest remainder, ties by arm order (hand-computed)', () => {
    // 10 x 1/3 = 3.33 each: floors 3,3,3, one leftover to the first arm
    expect(allocateCounts(10, [{ key: 'a', ratio: 1 }, { key: 'b', ratio: 1 }, { key: 'c', ratio: 1 }])).toEqual({ a: 4, b: 3, c: 3 });
    // 7 at 70/30: 4.9 and 2.1 -> 5 and 2
    expect(allocateCounts(7, [{ key: 'treatment', ratio: 0.7 }, { key: 'control', ratio: 0.3 }])).toEqual({ treatment: 5, control: 2 });
    // 11 at 1:1 -> 5.5 each, tie -> first arm gets the extra unit
    expect(allocateCounts(11, [{ key: 'control', ratio: 1 }, { key: 'treatment', ratio: 1 }])).toEqual({ control: 6, treatment: 5 });
    // 10 at 0.7/0.3 exactly 7/3 despite 0.7*10 = 7.000000000000001 in floating point
    expect(allocateCounts(10, [{ key: 't', ratio: 0.7 }, { key: 'c', ratio: 0.3 }])).toEqual({ t: 7, c: 3 });
  });

  it('rejects mixed count/ratio arms, duplicate keys and a single arm', () => {
    expect(() => allocateCounts(4, [{ key: 'a', count: 2 }, { key: 'b', ratio: 1 }])).toThrow(DesignError);
    expect(() => allocateCounts(4, [{ key: 'a', ratio: 1 }, { key: 'a', ratio: 1 }])).toThrow(/twice/);
    expect(() => allocateCounts(4, [{ key: 'a', count: 4 }])).toThrow(DesignError);
  });

  it('ratio allocations always sum to the total and stay within 1 of the quota (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 6 }), (n, ratios) => {
        const arms = ratios.map((ratio, i) => ({ key: `arm${i}`, ratio }));
        const counts = allocateCounts(n, arms);
        const sum = ratios.reduce((s, r) => s + r, 0);
        return (
          Object.values(counts).reduce((s, c) => s + c, 0) === n &&
          arms.every((a) => Math.abs(counts[a.key] - (n * a.ratio) / sum) < 1)
        );
      }),
    );
  });
});

describe('stratumTargets (controlled rounding)', () => {
  it('splits arms proportionally: strata 4/6 with 5/5 arms -> 2/2 and 3/3', () => {
    const t = stratumTargets([{ key: 'East', size: 4 }, { key: 'West', size: 6 }], { control: 5, treatment: 5 }, createPrng(1));
    expect(t).toEqual([
      { stratum: 'East', n: 4, counts: { control: 2, treatment: 2 } },
      { stratum: 'West', n: 6, counts: { control: 3, treatment: 3 } },
    ]);
  });

  it('odd strata: each stratum is split 2/1 or 1/2 and the arm totals stay exact; the seed decides which', () => {
    const strata = [{ key: 'A', size: 3 }, { key: 'B', size: 3 }];
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const t = stratumTargets(strata, { control: 3, treatment: 3 }, createPrng(seed));
      expect(t[0].counts.control + t[1].counts.control).toBe(3);
      expect(t[0].counts.control + t[0].counts.treatment).toBe(3);
      seen.add(`${t[0].counts.control}${t[1].counts.control}`);
    }
    expect([...seen].sort()).toEqual(['12', '21']);
  });

  it('row and column sums are exact and every cell is floor or ceil of its quota (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (sizes, ratios, seed) => {
          const N = sizes.reduce((s, x) => s + x, 0);
          const armCounts = allocateCounts(N, ratios.map((ratio, i) => ({ key: `a${i}`, ratio })));
          const strata = sizes.map((size, i) => ({ key: `s${i}`, size }));
          const t = stratumTargets(strata, armCounts, createPrng(seed));
          const rowsOk = t.every((row, i) => Object.values(row.counts).reduce((s, c) => s + c, 0) === sizes[i]);
          const colsOk = Object.keys(armCounts).every((k) => t.reduce((s, row) => s + row.counts[k], 0) === armCounts[k]);
          const cellsOk = t.every((row, i) =>
            Object.keys(armCounts).every((k) => {
              const q = N === 0 ? 0 : (sizes[i] * armCounts[k]) / N;
              return row.counts[k] >= Math.floor(q) && row.counts[k] <= Math.ceil(q);
            }),
          );
          return rowsOk && colsOk && cellsOk;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('throws when arm totals and strata sizes differ', () => {
    expect(() => stratumTargets([{ key: 'A', size: 3 }], { c: 1, t: 1 }, createPrng(0))).toThrow(DesignError);
  });
});
