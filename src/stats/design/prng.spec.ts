import { chiSquareSf } from '../distributions';
import { createPrng, PRNG_ALGORITHM, splitmix64Sequence } from './prng';

/**
 * Reference outputs: splitmix64 from seed 1234567 is the published test vector (Rosetta Code
 * "Pseudo-random numbers/Splitmix64": 0x599ED017FB08FC85, 0x2C73F08458540FA5, ...). The xoshiro128**
 * streams were produced by compiling Blackman & Vigna's reference C code (prng.di.unimi.it
 * xoshiro128starstar.c 1.1 + splitmix64.c) with gcc and seeding exactly as documented in prng.ts
 * (state = [low32(p), high32(p), low32(q), high32(q)] from the first two splitmix64 outputs).
 */
describe('PRNG against reference outputs', () => {
  it('names its algorithm', () => {
    expect(PRNG_ALGORITHM).toMatch(/^xoshiro128\*\*-1\.1\/splitmix64/);
  });

  it('splitmix64(1234567) reproduces the published test vector', () => {
    expect(splitmix64Sequence(1234567, 5)).toEqual([
      0x599ed017fb08fc85n,
      0x2c73f08458540fa5n,
      0x883ebce5a3f27c77n,
      0x3fbef740e9177b3fn,
      0xe3b8346708cb5ecdn,
    ]);
  });

  it.each([
    [0, [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774, 3260698944, 2754151956]],
    [42, [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222, 2940343271, 2244566231]],
    [Number.MAX_SAFE_INTEGER, [1233166643, 1287031142, 661813442, 2960669951, 2601079046, 1036114921, 2300589652, 2591400186]],
  ])('xoshiro128** seeded with %d matches the reference C implementation', (seed, expected) => {
    const rng = createPrng(seed);
    expect(Array.from({ length: expected.length }, () => rng.nextUint32())).toEqual(expected);
  });

  it('rejects seeds that are negative, fractional or above 2^53 - 1', () => {
    expect(() => createPrng(-1)).toThrow(RangeError);
    expect(() => createPrng(1.5)).toThrow(RangeError);
    expect(() => createPrng(2 ** 53)).toThrow(RangeError);
  });
});

describe('PRNG derived draws', () => {
  it('is deterministic: same seed, same stream', () => {
    const a = createPrng(2026);
    const b = createPrng(2026);
    expect(Array.from({ length: 50 }, () => a.nextInt(1000))).toEqual(Array.from({ length: 50 }, () => b.nextInt(1000)));
  });

  it('nextInt(10) is uniform: chi-square on 100,000 draws (fixed seed) is not extreme', () => {
    const rng = createPrng(99);
    const counts = new Array<number>(10).fill(0);
    const B = 100_000;
    for (let i = 0; i < B; i++) counts[rng.nextInt(10)]++;
    const chi2 = counts.reduce((s, o) => s + (o - B / 10) ** 2 / (B / 10), 0);
    expect(chiSquareSf(chi2, 9)).toBeGreaterThan(0.001);
  });

  it('nextInt covers non-power-of-two ranges near 2^32 without bias in the mean', () => {
    const rng = createPrng(5);
    const n = 3_000_000_001;
    let sum = 0;
    const B = 20_000;
    for (let i = 0; i < B; i++) {
      const v = rng.nextInt(n);
      expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
      sum += v;
    }
    // mean (n-1)/2 with SD n/sqrt(12 B): 5 SD band
    expect(Math.abs(sum / B - (n - 1) / 2)).toBeLessThan((5 * n) / Math.sqrt(12 * B));
    expect(rng.nextInt(1)).toBe(0);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
  });

  it('shuffle yields every permutation of 3 items equally often (chi-square, fixed seed)', () => {
    const rng = createPrng(11);
    const freq = new Map<string, number>();
    const B = 60_000;
    for (let i = 0; i < B; i++) {
      const key = rng.shuffle(['a', 'b', 'c']).join('');
      freq.set(key, (freq.get(key) ?? 0) + 1);
    }
    expect(freq.size).toBe(6);
    const chi2 = [...freq.values()].reduce((s, o) => s + (o - B / 6) ** 2 / (B / 6), 0);
    expect(chiSquareSf(chi2, 5)).toBeGreaterThan(0.001);
  });

  it('nextDouble lies in [0, 1)', () => {
    const rng = createPrng(3);
    for (let i = 0; i < 1000; i++) {
      const u = rng.nextDouble();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});

describe('nextInt is exactly Lemire’s method on the raw stream (BigInt oracle)', () => {
  /** Lemire (2019): m = x·n (64-bit), accept when low32(m) ≥ 2^32 mod n, return high32(m). */
  const lemire = (rng: ReturnType<typeof createPrng>, n: number): number => {
    const threshold = (2n ** 32n - BigInt(n)) % BigInt(n);
    for (;;) {
      const m = BigInt(rng.nextUint32()) * BigInt(n);
      if ((m & 0xffffffffn) >= threshold) return Number(m >> 32n);
    }
  };

  // 2,096,129 ≤ 2^21 has 2^32 mod n = 2,095,104: about 1 draw in 2,000 is rejected, so the
  // rejection branch of the fast path is exercised (10 times in 20,000 draws)
  it.each([[1], [2], [3], [7], [1000], [65_537], [0x20_0000 - 1], [0x20_0000], [0x20_0001], [2_096_129], [3_000_000_001], [0x1_0000_0000]])('n = %d', (n) => {
    for (const seed of [0, 42, 20261130]) {
      const a = createPrng(seed);
      const b = createPrng(seed);
      const got = Array.from({ length: 20_000 }, () => a.nextInt(n));
      expect(got).toEqual(Array.from({ length: 20_000 }, () => lemire(b, n)));
    }
  });

  it('a Fisher–Yates walk over every n from 1,000 down to 2 (the Monte Carlo draw pattern)', () => {
    const a = createPrng(7);
    const b = createPrng(7);
    const got: number[] = [];
    const want: number[] = [];
    for (let rep = 0; rep < 20; rep++) for (let n = 1000; n >= 2; n--) got.push(a.nextInt(n));
    for (let rep = 0; rep < 20; rep++) for (let n = 1000; n >= 2; n--) want.push(lemire(b, n));
    expect(got).toEqual(want);
  });
});
