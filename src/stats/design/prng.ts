/**
 * Seeded pseudo-random number generator for assignments and Monte Carlo randomization inference.
 *
 * Algorithm: xoshiro128** 1.1 (Blackman & Vigna 2018, "Scrambled linear pseudorandom number
 * generators", reference code https://prng.di.unimi.it/xoshiro128starstar.c), a 32-bit generator with
 * a 128-bit state, seeded from a non-negative integer seed (≤ 2^53 − 1, so it survives JSON and a
 * PostgreSQL bigint read as a JS number) by two outputs of splitmix64 (Steele, Lea & Flood 2014,
 * https://prng.di.unimi.it/splitmix64.c): p = splitmix64 #1, q = splitmix64 #2,
 * state = [low32(p), high32(p), low32(q), high32(q)]. Integers in [0, n) by Lemire's (2019)
 * nearly-divisionless rejection method (unbiased); permutations by Fisher–Yates (Durstenfeld).
 *
 * The exact meaning of a seed is part of every stored assignment: never change any of this without
 * bumping PRNG_ALGORITHM (randomizr issue #73: a seed that silently changed meaning across versions).
 */

/** Name and version of the generator stored with every assignment. */
export const PRNG_ALGORITHM = 'xoshiro128**-1.1/splitmix64-seed/lemire-int/fisher-yates@1';

const MASK64 = (1n << 64n) - 1n;

/** One splitmix64 step on a BigInt state; returns [newState, output] (64-bit unsigned). */
function splitmix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

/**
 * The first `count` outputs of splitmix64 started from `seed` (as BigInt, unsigned 64-bit).
 * Exposed for the published-test-vector check (seed 1234567 → 0x599ED017FB08FC85, …).
 *
 * @param seed non-negative integer ≤ 2^53 − 1
 * @param count number of outputs
 * @throws RangeError on an invalid seed
 */
export function splitmix64Sequence(seed: number, count: number): bigint[] {
  assertSeed(seed);
  let state = BigInt(seed);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const [s, v] = splitmix64(state);
    state = s;
    out.push(v);
  }
  return out;
}

function assertSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be an integer in [0, 2^53 - 1], got ${seed}`);
  }
}

/** A seeded generator; not safe to share between concurrent computations (it is stateful). */
export interface Prng {
  /** next raw 32-bit output as an unsigned integer in [0, 2^32) */
  nextUint32(): number;
  /** unbiased integer in [0, n), 1 ≤ n ≤ 2^32 (Lemire's rejection method) */
  nextInt(n: number): number;
  /** double in [0, 1) with 53 random bits */
  nextDouble(): number;
  /** shuffles `items` in place (Fisher–Yates) and returns it */
  shuffle<T>(items: T[]): T[];
  /** shuffles a typed array in place (Fisher–Yates), no allocation */
  shuffleInPlace(items: Uint8Array | Int32Array | Uint32Array | Float64Array): void;
}

/**
 * Creates a xoshiro128** generator seeded via splitmix64 (see module doc for the exact recipe).
 *
 * @param seed non-negative integer ≤ 2^53 − 1 (Number.MAX_SAFE_INTEGER)
 * @throws RangeError when the seed is negative, fractional or above 2^53 − 1
 */
export function createPrng(seed: number): Prng {
  assertSeed(seed);
  const [s1, p] = splitmix64(BigInt(seed));
  const [, q] = splitmix64(s1);
  let a = Number(p & 0xffffffffn) >>> 0;
  let b = Number(p >> 32n) >>> 0;
  let c = Number(q & 0xffffffffn) >>> 0;
  let d = Number(q >> 32n) >>> 0;
  if ((a | b | c | d) === 0) a = 1; // the all-zero state is a fixed point (never reached in practice)

  const nextUint32 = (): number => {
    const m = Math.imul(b, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return result;
  };

  // Lemire: with m = x·n (64-bit), accept when low32(m) ≥ 2^32 mod n and return high32(m).
  // x is split into 16-bit halves so every product stays exact in doubles.
  const nextInt = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000) {
      throw new RangeError(`nextInt needs an integer n in [1, 2^32], got ${n}`);
    }
    if (n === 1) return 0;
    if (n <= 0x20_0000) {
      // n ≤ 2^21: x·n < 2^53 is exact in a double, so take high32/low32 directly; 2^32 mod n (< n)
      // only matters when low32 < n (Lemire's fast path): the same outputs as the general branch.
      for (;;) {
        const m = nextUint32() * n;
        const high = Math.floor(m / 0x1_0000_0000);
        const low = m - high * 0x1_0000_0000;
        if (low >= n || low >= (0x1_0000_0000 - n) % n) return high;
      }
    }
    const threshold = (0x1_0000_0000 - n) % n; // 2^32 mod n
    for (;;) {
      const x = nextUint32();
      const hiPart = (x >>> 16) * n; // < 2^48, exact
      const loPart = (x & 0xffff) * n; // < 2^48, exact
      // low 32 bits of x·n: (hiPart mod 2^16)·2^16 + loPart, all exact below 2^49
      const lowExact = ((hiPart % 65536) * 65536 + loPart) % 0x1_0000_0000;
      if (lowExact >= threshold) {
        return Math.floor((hiPart + Math.floor(loPart / 65536)) / 65536);
      }
    }
  };

  const nextDouble = (): number => {
    const hi = nextUint32() >>> 5; // 27 bits
    const lo = nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  };

  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = nextInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  };

  const shuffleInPlace = (items: Uint8Array | Int32Array | Uint32Array | Float64Array): void => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = nextInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
  };

  return { nextUint32, nextInt, nextDouble, shuffle, shuffleInPlace };
}
