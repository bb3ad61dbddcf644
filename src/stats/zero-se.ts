/**
 * The one rule for a standard error that is 0 up to rounding: SE ≤ 1e-12 · max(1, |estimate|) (or
 * not a number). An exact fit leaves residuals of floating-point noise (about 1e-16 relative), and
 * dividing an estimate by such an SE would report p ≈ 0 for data without any variation (pitfall P5);
 * every t-type row (Welch-type, HC2, CR1/CR2/CR3, the panel DiD, the wild bootstrap's kernel) gives
 * null p and CI under this rule instead.
 * @param se the standard error (same unit as the estimate)
 * @param estimate the estimate it belongs to
 * @returns true when the SE must be treated as 0
 */
export function isZeroSe(se: number, estimate: number): boolean {
  return !(se > 1e-12 * Math.max(1, Math.abs(estimate)));
}
