/**
 * Two-sample t-tests on territory-level KPI values (treatment vs control territories).
 *
 * Conventions (shared/reference/welch.json): diff = mean(treatment) − mean(control); sample
 * variances with ddof = 1; p_two_sided = 2·P(T_df ≥ |t|); p_greater tests H1: treatment > control,
 * p_less H1: treatment < control; the (1 − α) CI is diff ∓ t_{1−α/2, df}·se with the SAME df as the
 * p-value (Welch–Satterthwaite df, never rounded, never a z quantile), so p < α exactly when the CI
 * excludes 0 (pitfall P7). Degenerate inputs return null inferential fields and a status, never
 * NaN/Infinity (pitfall P5).
 */
import { armMoments } from './descriptive';
import { normalCdf, normalSf, studentTCdf, studentTInv, studentTSf } from './distributions';

/** Outcome of a t-test: 'ok', an arm with fewer than 2 values, or a zero standard error. */
export type TTestStatus = 'ok' | 'insufficient_data' | 'zero_variance';

/** Result shape shared by `welchTTest` and `studentTTest` (units: those of the KPI). */
export interface TTestResult {
  /** method label, so a report can say which test produced the numbers */
  method: 'welch' | 'student';
  n_t: number;
  n_c: number;
  /** null when the arm is empty */
  mean_t: number | null;
  mean_c: number | null;
  /** sample variances (n − 1); null when the arm has fewer than 2 values */
  var_t: number | null;
  var_c: number | null;
  /** mean_t − mean_c; null when an arm is empty */
  diff: number | null;
  /** standard error of diff; null when insufficient data, 0 when both arms are constant */
  se: number | null;
  t: number | null;
  /** Welch–Satterthwaite df (fractional) or n_t + n_c − 2 (Student) */
  df: number | null;
  p_two_sided: number | null;
  p_greater: number | null;
  p_less: number | null;
  ci_low: number | null;
  ci_high: number | null;
  /** 1 − alpha, e.g. 0.95 */
  conf_level: number;
  status: TTestStatus;
}

/** Options of the t-tests. */
export interface TTestOptions {
  /** significance level of the two-sided CI, in (0, 1); default 0.05 (95% CI) */
  alpha?: number;
}

/** Smallest positive double: a p-value below the double range is reported as this, never 0. */
const P_FLOOR = Number.MIN_VALUE;

function validateAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie strictly between 0 and 1, got ${alpha}`);
}

function tTest(
  method: 'welch' | 'student',
  treatment: readonly number[],
  control: readonly number[],
  opts: TTestOptions,
): TTestResult {
  const alpha = opts.alpha ?? 0.05;
  validateAlpha(alpha);
  const { n: n_t, mean: mean_t, variance: var_t } = armMoments(treatment);
  const { n: n_c, mean: mean_c, variance: var_c } = armMoments(control);
  const diff = mean_t !== null && mean_c !== null ? mean_t - mean_c : null;
  const base: TTestResult = {
    method,
    n_t,
    n_c,
    mean_t,
    mean_c,
    var_t,
    var_c,
    diff,
    se: null,
    t: null,
    df: null,
    p_two_sided: null,
    p_greater: null,
    p_less: null,
    ci_low: null,
    ci_high: null,
    conf_level: 1 - alpha,
    status: 'insufficient_data',
  };
  if (var_t === null || var_c === null || diff === null) return base;

  let se: number;
  let df: number | null;
  if (method === 'welch') {
    const a = var_t / n_t;
    const b = var_c / n_c;
    se = Math.sqrt(a + b);
    const denominator = (a * a) / (n_t - 1) + (b * b) / (n_c - 1);
    df = denominator > 0 ? ((a + b) * (a + b)) / denominator : null;
  } else {
    df = n_t + n_c - 2;
    const pooled = ((n_t - 1) * var_t + (n_c - 1) * var_c) / df;
    se = Math.sqrt(pooled * (1 / n_t + 1 / n_c));
  }
  if (!(se > 0) || df === null || !Number.isFinite(se) || !Number.isFinite(df)) {
    return { ...base, se: 0, df: method === 'student' ? df : null, status: 'zero_variance' };
  }
  const t = diff / se;
  const q = studentTInv(1 - alpha / 2, df);
  return {
    ...base,
    se,
    t,
    df,
    p_two_sided: Math.max(P_FLOOR, Math.min(1, 2 * studentTSf(Math.abs(t), df))),
    p_greater: Math.max(P_FLOOR, studentTSf(t, df)),
    p_less: Math.max(P_FLOOR, studentTCdf(t, df)),
    ci_low: diff - q * se,
    ci_high: diff + q * se,
    status: 'ok',
  };
}

/**
 * Welch's unequal-variance t-test of treatment vs control territory values (Welch 1947;
 * reference implementation scipy.stats.ttest_ind(equal_var=False) and R t.test).
 *
 * se = √(s²_t/n_t + s²_c/n_c); df = se⁴ / ((s²_t/n_t)²/(n_t − 1) + (s²_c/n_c)²/(n_c − 1)) (fractional,
 * never rounded); CI = diff ∓ t_{1−α/2, df}·se. One arm constant is fine (df collapses to the other
 * arm's n − 1).
 *
 * Status: 'insufficient_data' when an arm has fewer than 2 values (means/diff still reported when
 * defined); 'zero_variance' when se = 0 (both arms constant): se = 0 and t, df, p, CI are null — never
 * "p = 0" (pitfall P5). p-values below the double range are reported as 5e-324, never 0.
 *
 * @param treatment one KPI value per treatment territory (finite numbers)
 * @param control one KPI value per control territory (finite numbers)
 * @param opts alpha for the (1 − alpha) CI, default 0.05
 * @throws RangeError on a non-finite value or alpha outside (0, 1)
 */
export function welchTTest(
  treatment: readonly number[],
  control: readonly number[],
  opts: TTestOptions = {},
): TTestResult {
  return tTest('welch', treatment, control, opts);
}

/**
 * Student's pooled-variance t-test (equal variances assumed; scipy.stats.ttest_ind(equal_var=True)).
 * s²_p = ((n_t − 1)s²_t + (n_c − 1)s²_c)/(n_t + n_c − 2), se = √(s²_p(1/n_t + 1/n_c)), df = n_t + n_c − 2.
 * Same statuses and null rules as `welchTTest` (df stays n_t + n_c − 2 when se = 0). Prefer Welch for
 * reports; this exists for comparison with tools that use the pooled test.
 *
 * @param treatment one KPI value per treatment territory (finite numbers)
 * @param control one KPI value per control territory (finite numbers)
 * @param opts alpha for the (1 − alpha) CI, default 0.05
 * @throws RangeError on a non-finite value or alpha outside (0, 1)
 */
export function studentTTest(
  treatment: readonly number[],
  control: readonly number[],
  opts: TTestOptions = {},
): TTestResult {
  return tTest('student', treatment, control, opts);
}

/** Alternative hypothesis of a one- or two-sided test; 'greater' means H1: treatment > control. */
export type Alternative = 'two-sided' | 'greater' | 'less';

/**
 * p-value of a z statistic under the standard normal, respecting the SIGN for one-sided tests
 * (pitfall P2, jstat issue #297 uses |z|): 'greater' = P(Z ≥ z) (z = −2 → 0.977250, z = +2 →
 * 0.0227501), 'less' = P(Z ≤ z), 'two-sided' = 2·P(Z ≥ |z|). Tails computed directly (erfc form).
 *
 * @param z a finite z statistic (treatment − control direction)
 * @param alternative 'two-sided' | 'greater' | 'less'
 * @throws RangeError when z is not finite or the alternative is unknown
 */
export function zTestPValue(z: number, alternative: Alternative): number {
  if (!Number.isFinite(z)) throw new RangeError(`z must be a finite number, got ${z}`);
  switch (alternative) {
    case 'two-sided':
      return Math.max(P_FLOOR, Math.min(1, 2 * normalSf(Math.abs(z))));
    case 'greater':
      return Math.max(P_FLOOR, normalSf(z));
    case 'less':
      return Math.max(P_FLOOR, normalCdf(z));
    default:
      throw new RangeError(`unknown alternative ${String(alternative)}`);
  }
}
