/**
 * Descriptive statistics over territory-level KPI values (one number per territory).
 *
 * NOTE (pitfall P3): `jStat.stdev(arr)` / `jStat.variance(arr)` divide by n (population variance).
 * Every variance in PilotLab's tests is the SAMPLE variance with n − 1 (ddof = 1), as in
 * scipy `np.var(x, ddof=1)` and R `var()`; use `sampleVariance` / `sampleSd`, never jstat's.
 */

/**
 * Arithmetic mean of the values; null for an empty array.
 * Two-pass: the naive sum is corrected by the mean residual (Higham 2002, §1.9 / NumPy-style
 * pairwise accuracy is not needed at PilotLab's sizes of 10–200 territories).
 *
 * @param values finite numbers (units of the KPI)
 * @returns the mean, or null when `values` is empty
 * @throws RangeError when a value is NaN or infinite
 */
export function mean(values: readonly number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  let sum = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`values must be finite numbers, got ${v}`);
    sum += v;
  }
  const first = sum / n;
  let correction = 0;
  for (const v of values) correction += v - first;
  return first + correction / n;
}

/**
 * Sample variance s² = Σ(x − x̄)² / (n − 1) (ddof = 1), by the corrected two-pass algorithm
 * (Chan, Golub & LeVeque 1983, eq. 1.7): Σ(x − x̄)² − (Σ(x − x̄))²/n, which is exact for constant
 * data (returns 0, never a tiny negative number).
 *
 * @param values finite numbers (units of the KPI)
 * @returns s² in squared KPI units, or null when fewer than 2 values
 * @throws RangeError when a value is NaN or infinite
 */
export function sampleVariance(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 2) {
    // still validate the input
    mean(values);
    return null;
  }
  const m = mean(values) as number;
  let ss = 0;
  let s = 0;
  for (const v of values) {
    const d = v - m;
    ss += d * d;
    s += d;
  }
  const result = (ss - (s * s) / n) / (n - 1);
  return result > 0 ? result : 0;
}

/**
 * Sample standard deviation s = √(sample variance), ddof = 1 (NOT jStat.stdev, which divides by n).
 *
 * @param values finite numbers (units of the KPI)
 * @returns s in KPI units, or null when fewer than 2 values
 * @throws RangeError when a value is NaN or infinite
 */
export function sampleSd(values: readonly number[]): number | null {
  const v = sampleVariance(values);
  return v === null ? null : Math.sqrt(v);
}

/** Size, mean and sample variance (n − 1) of one arm's values; mean null when empty, variance when n < 2. */
export function armMoments(values: readonly number[]): { n: number; mean: number | null; variance: number | null } {
  return { n: values.length, mean: mean(values), variance: sampleVariance(values) };
}
