/**
 * Non-inferiority test for guardrail KPIs: is the treatment no worse than control by more than a
 * stated margin? One-sided, on territory values, Welch-type (unequal variances).
 *
 * With m_T, m_C the arm means, v_x = s²_x/n_x and "worse" meaning lower for a higher-is-better KPI:
 *  - absolute margin δ (KPI units):   higher-is-better L = (m_T − m_C) + δ;  lower-is-better L = δ − (m_T − m_C)
 *  - relative margin r (fraction):   higher-is-better L = m_T − (1 − r)·m_C;  lower-is-better L = (1 + r)·m_C − m_T
 * i.e. a linear contrast L = a·m_T − b·m_C + c whose H0 is L ≤ 0 (inferior) and H1 is L > 0.
 * se(L) = √(a²v_T + b²v_C), Welch–Satterthwaite df = se⁴/((a²v_T)²/(n_T − 1) + (b²v_C)²/(n_C − 1)),
 * p = P(T_df ≥ L/se). The relative form tests the ratio m_T/m_C against 1 ∓ r exactly (no delta method),
 * as in Fieller's construction. `lower_bound` = L − t_{1−α,df}·se: non-inferior ⇔ lower_bound > 0 ⇔ p < α.
 * With margin 0 (absolute) the p equals Welch's one-sided p (p_greater, or p_less for lower-is-better).
 * Sources: Welch (1947); Wellek (2010), *Testing Statistical Hypotheses of Equivalence and
 * Noninferiority*, ch. 2; FDA (2016) Non-Inferiority Clinical Trials guidance (margin stated in advance).
 */
import { armMoments } from './descriptive';
import { studentTInv, studentTSf } from './distributions';

/** A stated non-inferiority margin. */
export interface NonInferiorityMargin {
  /** ≥ 0; a fraction for 'relative' (0.05 = 5% worse allowed), KPI units for 'absolute' */
  margin: number;
  type: 'relative' | 'absolute';
}

/** Result of `nonInferiorityTest`. */
export interface NonInferiorityResult {
  method: 'non_inferiority_welch';
  status: 'ok' | 'insufficient_data' | 'zero_variance' | 'baseline_not_positive';
  margin: number;
  margin_type: 'relative' | 'absolute';
  higher_is_better: boolean;
  /** the contrast L (KPI units) whose positivity means non-inferior */
  contrast: number | null;
  se: number | null;
  df: number | null;
  t: number | null;
  /** one-sided p of H0: inferior by at least the margin */
  p_value: number | null;
  /** one-sided (1 − α) lower confidence bound of L */
  lower_bound: number | null;
  non_inferior: boolean | null;
  alpha: number;
}

/**
 * One-sided non-inferiority test of treatment vs control (see the file header).
 * @throws RangeError on a negative or non-finite margin, a relative margin ≥ 1, or alpha outside (0, 1)
 */
export function nonInferiorityTest(
  treatment: readonly number[],
  control: readonly number[],
  opts: NonInferiorityMargin & { higherIsBetter: boolean; alpha?: number },
): NonInferiorityResult {
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must lie in (0, 1), got ${alpha}`);
  if (!(opts.margin >= 0 && Number.isFinite(opts.margin))) throw new RangeError(`margin must be a finite number ≥ 0, got ${opts.margin}`);
  if (opts.type === 'relative' && opts.margin >= 1) throw new RangeError(`a relative margin must be below 1, got ${opts.margin}`);
  const T = armMoments(treatment);
  const C = armMoments(control);
  const base: NonInferiorityResult = {
    method: 'non_inferiority_welch',
    status: 'insufficient_data',
    margin: opts.margin,
    margin_type: opts.type,
    higher_is_better: opts.higherIsBetter,
    contrast: null,
    se: null,
    df: null,
    t: null,
    p_value: null,
    lower_bound: null,
    non_inferior: null,
    alpha,
  };
  if (T.n < 2 || C.n < 2 || T.mean === null || C.mean === null || T.variance === null || C.variance === null) return base;
  if (opts.type === 'relative' && !(C.mean > 0)) return { ...base, status: 'baseline_not_positive' };
  const sign = opts.higherIsBetter ? 1 : -1;
  // L = sign·(m_T − k·m_C) + c
  const k = opts.type === 'relative' ? (opts.higherIsBetter ? 1 - opts.margin : 1 + opts.margin) : 1;
  const c = opts.type === 'absolute' ? opts.margin : 0;
  const contrast = sign * (T.mean - k * C.mean) + c;
  const vt = T.variance / T.n;
  const vc = (k * k * C.variance) / C.n;
  const se = Math.sqrt(vt + vc);
  if (!(se > 0)) return { ...base, status: 'zero_variance', contrast, se: 0 };
  const df = (vt + vc) ** 2 / ((vt * vt) / (T.n - 1) + (vc * vc) / (C.n - 1));
  const t = contrast / se;
  const p = Math.max(Number.MIN_VALUE, Math.min(1, studentTSf(t, df)));
  const lower = contrast - studentTInv(1 - alpha, df) * se;
  return { ...base, status: 'ok', contrast, se, df, t, p_value: p, lower_bound: lower, non_inferior: p < alpha };
}
