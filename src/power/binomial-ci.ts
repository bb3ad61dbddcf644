/**
 * Clopper–Pearson ("exact") confidence interval for a binomial proportion x/n, as
 * scipy.stats.binomtest(x, n).proportion_ci(method='exact'): lower = Beta⁻¹(α/2; x, n − x + 1),
 * upper = Beta⁻¹(1 − α/2; x + 1, n − x) (Clopper & Pearson 1934, Biometrika 26). The beta quantile is
 * found by bisection on the accurate regularized incomplete beta of distributions.ts.
 */
import { ibeta } from '../stats/distributions';

function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (ibeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * @param x successes (integer 0..n)
 * @param n trials (integer ≥ 1)
 * @param level confidence level (default 0.95)
 * @returns rate x/n and the interval [low, high] (fractions 0..1)
 * @throws RangeError on invalid counts or level
 */
export function clopperPearson(x: number, n: number, level = 0.95): { rate: number; low: number; high: number } {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(x) || x < 0 || x > n) throw new RangeError(`need integers 0 ≤ x ≤ n, n ≥ 1; got ${x}/${n}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  const alpha = 1 - level;
  return {
    rate: x / n,
    low: x === 0 ? 0 : betaQuantile(alpha / 2, x, n - x + 1),
    high: x === n ? 1 : betaQuantile(1 - alpha / 2, x + 1, n - x),
  };
}
