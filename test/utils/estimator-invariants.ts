/**
 * Invariant checks shared by the property-based estimator specs (fast-check): an estimate with its
 * interval and p (all nullable, as the estimators return them) must keep lower <= estimate <= upper,
 * p in (0, 1], p < alpha exactly when the CI excludes 0, flip sign under relabelled arms and ignore
 * a constant added to every territory.
 */
import fc from 'fast-check';

/** A KPI value: two decimals, moderate range (territory revenue-like numbers). */
export const kpiValueArb = fc.integer({ min: -50_000, max: 500_000 }).map((v) => v / 100);

/** One method's answer: point estimate, CI bounds and p (null where the method gives none). */
export interface Est {
  estimate: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p: number | null;
}

/** Equal to a relative 1e-7 (floor 1e-7 absolute). */
export const rel = (a: number, b: number) => Math.abs(a - b) <= 1e-7 * Math.max(1, Math.abs(a), Math.abs(b));

/** lower <= estimate <= upper, p in (0, 1], and p < alpha iff the (1 - alpha) CI excludes 0. */
export function checkInterval(e: Est, alpha: number): void {
  if (e.p !== null) {
    expect(e.p).toBeGreaterThan(0);
    expect(e.p).toBeLessThanOrEqual(1);
  }
  if (e.estimate === null || e.ci_low === null || e.ci_high === null || e.p === null) return;
  const slack = 1e-9 * Math.max(1, Math.abs(e.estimate));
  expect(e.ci_low).toBeLessThanOrEqual(e.estimate + slack);
  expect(e.estimate).toBeLessThanOrEqual(e.ci_high + slack);
  // Skip the measure-zero boundary where p equals α to rounding.
  if (Math.abs(e.p - alpha) > 1e-9) expect(e.p < alpha).toBe(e.ci_low > 0 || e.ci_high < 0);
}

/** b is a with the arms swapped: the same p, the negated estimate and the mirrored CI. */
export function checkFlip(a: Est, b: Est): void {
  expect(a.p === null).toBe(b.p === null);
  if (a.p !== null) expect(rel(a.p, b.p!)).toBe(true);
  if (a.estimate !== null) expect(rel(a.estimate, -b.estimate!)).toBe(true);
  if (a.ci_low !== null) {
    expect(rel(a.ci_low, -b.ci_high!)).toBe(true);
    expect(rel(a.ci_high!, -b.ci_low!)).toBe(true);
  }
}

/** b is a with a constant added to every value: the same estimate and p. */
export function checkShift(a: Est, b: Est): void {
  expect(a.estimate === null).toBe(b.estimate === null);
  if (a.estimate !== null) expect(Math.abs(a.estimate - b.estimate!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(a.estimate)) + 1e-6);
  // p compared to 1e-5: adding the constant rounds every value at ~1e-16·|shift|, and near-degenerate
  // samples (all but one value equal) amplify that rounding in the standard error by up to ~1e10.
  if (a.p !== null && b.p !== null) expect(Math.abs(a.p - b.p)).toBeLessThanOrEqual(1e-5);
}
