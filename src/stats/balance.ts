/**
 * Covariate balance between arms after assignment: standardized mean differences (SMD).
 * Rule of thumb shown in reports: |SMD| < 0.1 good, < 0.25 acceptable (Stuart 2010; Austin 2009).
 */
import { mean, sampleSd, sampleVariance } from './descriptive';

/**
 * Standardized mean difference (mean_t − mean_c) / √((s²_t + s²_c)/2), sample variances (n − 1)
 * (Austin 2009, Statistics in Medicine 28; Stuart 2010, Statistical Science 25).
 *
 * @param treatment covariate values of the treatment territories (finite numbers)
 * @param control covariate values of the control territories (finite numbers)
 * @returns the SMD (unitless), or null when an arm has fewer than 2 values or the pooled SD is 0
 * @throws RangeError on a non-finite value
 */
export function standardizedMeanDifference(treatment: readonly number[], control: readonly number[]): number | null {
  const vt = sampleVariance(treatment);
  const vc = sampleVariance(control);
  if (vt === null || vc === null) return null;
  const pooledSd = Math.sqrt((vt + vc) / 2);
  if (!(pooledSd > 0)) return null;
  return ((mean(treatment) as number) - (mean(control) as number)) / pooledSd;
}

/** One row of the balance table. */
export interface BalanceRow {
  covariate: string;
  n_treatment: number;
  n_control: number;
  /** territories of the arm whose value is missing (null/undefined), excluded from the row */
  n_missing_treatment: number;
  n_missing_control: number;
  n_missing: number;
  mean_treatment: number | null;
  mean_control: number | null;
  sd_treatment: number | null;
  sd_control: number | null;
  smd: number | null;
  /** 'good' (|SMD| < 0.1), 'acceptable' (< 0.25), 'imbalanced', or null when the SMD is undefined */
  rating: 'good' | 'acceptable' | 'imbalanced' | null;
}

/**
 * Balance-table row for one covariate: per-arm means and sample SDs over the non-missing values,
 * the SMD and its rating. Missing values are dropped (never filled with 0) and counted.
 *
 * @param name covariate name (e.g. 'headcount', 'pre_period_velocity')
 * @param treatmentValues values of the treatment territories; null/undefined = missing
 * @param controlValues values of the control territories; null/undefined = missing
 * @throws RangeError on a non-finite (NaN/Infinity) value
 */
export function balanceRow(
  name: string,
  treatmentValues: readonly (number | null | undefined)[],
  controlValues: readonly (number | null | undefined)[],
): BalanceRow {
  const present = (xs: readonly (number | null | undefined)[]) => xs.filter((x): x is number => x !== null && x !== undefined);
  const t = present(treatmentValues);
  const c = present(controlValues);
  const smd = standardizedMeanDifference(t, c);
  const abs = smd === null ? null : Math.abs(smd);
  return {
    covariate: name,
    n_treatment: t.length,
    n_control: c.length,
    n_missing_treatment: treatmentValues.length - t.length,
    n_missing_control: controlValues.length - c.length,
    n_missing: treatmentValues.length - t.length + controlValues.length - c.length,
    mean_treatment: mean(t),
    mean_control: mean(c),
    sd_treatment: sampleSd(t),
    sd_control: sampleSd(c),
    smd,
    rating: abs === null ? null : abs < 0.1 ? 'good' : abs < 0.25 ? 'acceptable' : 'imbalanced',
  };
}
