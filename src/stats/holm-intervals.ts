/**
 * Confidence levels that make each KPI's interval agree with its Holm-adjusted p-value, so a report
 * never shows an adjusted "not significant" beside an interval that excludes 0 (or the reverse).
 *
 * Holm (1979): order the m p-values p_(1) ≤ … ≤ p_(m); H_(i) is rejected when p_(j) < α/(m − j + 1)
 * for every j ≤ i. Let s be the first rank that fails (s = m + 1 when all are rejected). Give
 *  - a rejected hypothesis of rank i the (1 − α/(m − i + 1)) interval: p_(i) < α/(m − i + 1), so that
 *    interval excludes the null value;
 *  - every hypothesis not rejected (rank ≥ s) the (1 − α/(m − s + 1)) interval: its p ≥ p_(s) ≥
 *    α/(m − s + 1), so that interval contains the null value.
 * For any method whose (1 − a) interval excludes the null exactly when its p < a (t intervals, and
 * test-inversion intervals of randomization tests and the wild bootstrap), each interval then
 * excludes the null exactly when Holm rejects. Each interval is at least as wide as the unadjusted
 * one and at most as wide as the Bonferroni (1 − α/m) one; unlike Bonferroni simultaneous intervals
 * it follows Holm's step-down, and like the Holm-adjusted p-values (which are not simultaneous
 * confidence statements either) it controls the family-wise error of the tests only. Compare
 * Strassburger & Bretz (2008), Statistics in Medicine 27, for intervals compatible with Holm.
 * Ties in p keep input order (as adjustPValues).
 */

/** Per-hypothesis output of `holmConsistentLevels`, in input order. */
export interface HolmLevel {
  /** Holm rejects at α */
  rejected: boolean;
  /** the α' of the (1 − α') interval to show */
  interval_alpha: number;
  /** rank of the p-value (1 = smallest) */
  rank: number;
}

/**
 * Interval levels consistent with Holm's step-down at level α (see the file header).
 * @param pValues unadjusted p-values (each in [0, 1]), input order
 * @param alpha family-wise level, 0 < α < 1
 * @returns one entry per p-value, input order; empty input gives an empty array
 * @throws RangeError on a p-value outside [0, 1] or NaN, or α outside (0, 1)
 */
export function holmConsistentLevels(pValues: readonly number[], alpha: number): HolmLevel[] {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  for (const p of pValues) if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must be in [0, 1], got ${p}`);
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  let s = m + 1;
  for (let r = 1; r <= m; r++) {
    if (!(order[r - 1].p < alpha / (m - r + 1))) {
      s = r;
      break;
    }
  }
  const out = new Array<HolmLevel>(m);
  order.forEach(({ i }, k) => {
    const rank = k + 1;
    const rejected = rank < s;
    out[i] = { rejected, interval_alpha: rejected ? alpha / (m - rank + 1) : alpha / (m - s + 1), rank };
  });
  return out;
}
