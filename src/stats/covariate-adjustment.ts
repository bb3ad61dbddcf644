/**
 * Covariate adjustment of a territory KPI Y with its pre-period value X.
 *
 * Conventions (shared/reference/cuped.json):
 *  - CUPED (Deng, Xu, Kohavi & Walker 2013, WSDM): θ = cov(Y, X)/var(X) over ALL territories pooled,
 *    Y_adj = Y − θ(X − mean X); effect = mean(Y_adj | T) − mean(Y_adj | C); se = √(s²_T/n_T + s²_C/n_C)
 *    of Y_adj (θ treated as known); the test and CI are Welch's on Y_adj (scipy ttest_ind equal_var=False).
 *  - ANCOVA: OLS Y ~ 1 + T + (X − mean X), classic and HC0–HC3 SEs (statsmodels OLS).
 *  - Lin (2013, Annals of Applied Statistics 7): OLS Y ~ 1 + T + Xc + T·Xc with Xc = X − mean X (pooled),
 *    the coefficient of T is the effect; HC2 SE, Student t with n − k df (k = number of columns).
 *
 * Missing X (a territory without pre-period data) is never replaced by 0: `missingX: 'drop'` leaves the
 * territory out, `'mean_impute'` (Lin's functions only) sets X to the mean of the observed X and adds
 * an indicator column D (and T·D for Lin), so the imputed territories get their own intercept.
 */
import { mean, sampleVariance } from './descriptive';
import { normalSf, studentTInv, studentTSf } from './distributions';
import { aliasedColumns, classicCovariance, hcCoefficientVariance, hcCovariance, HcType, Matrix, olsFit } from './linear-model';
import { welchTTest } from './welch';
import { isZeroSe } from './zero-se';

/** Smallest positive double: a p-value below the double range is reported as this, never 0. */
const P_FLOOR = Number.MIN_VALUE;

function checkArrays(y: readonly number[], x: readonly (number | null)[], treated: readonly (0 | 1 | boolean)[]): void {
  if (y.length !== x.length || y.length !== treated.length) {
    throw new RangeError(`y, x and treated must have the same length (${y.length}, ${x.length}, ${treated.length})`);
  }
  for (const v of y) if (!Number.isFinite(v)) throw new RangeError(`y values must be finite numbers, got ${v}`);
  for (const v of x) if (v !== null && !Number.isFinite(v)) throw new RangeError(`x values must be finite numbers or null, got ${v}`);
}

function twoSidedT(t: number, df: number): number {
  return Math.max(P_FLOOR, Math.min(1, 2 * studentTSf(Math.abs(t), df)));
}

function twoSidedZ(z: number): number {
  return Math.max(P_FLOOR, Math.min(1, 2 * normalSf(Math.abs(z))));
}

/** Result of `cuped`. Fields follow cuped.json; inference fields are null when undefined. */
export interface CupedResult {
  method: 'cuped_pooled_theta';
  status: 'ok' | 'insufficient_data' | 'zero_variance' | 'constant_covariate';
  n: number;
  n_t: number;
  n_c: number;
  /** territories left out because X was missing */
  n_dropped_missing_x: number;
  mean_x: number | null;
  mean_x_t: number | null;
  mean_x_c: number | null;
  mean_y_t: number | null;
  mean_y_c: number | null;
  cov_yx: number | null;
  var_x: number | null;
  theta: number | null;
  adj_mean_t: number | null;
  adj_mean_c: number | null;
  effect_unadjusted: number | null;
  se_unadjusted: number | null;
  effect_adjusted: number | null;
  se_adjusted: number | null;
  adjusted_welch: { t: number | null; df: number | null; p_two_sided: number | null; ci_low: number | null; ci_high: number | null };
  /** var(Y_adj)/var(Y) pooled = 1 − corr² */
  variance_ratio_pooled: number | null;
  corr_yx: number | null;
  /** se_adjusted² / se_unadjusted² */
  variance_ratio_estimator: number | null;
  /** Y_adj per input territory (null where X was missing), for randomization inference */
  adjusted_values: (number | null)[];
  conf_level: number;
}

/**
 * CUPED with the pooled θ (see the file header).
 * @param y KPI per territory (test period), finite
 * @param x pre-period value per territory; null = missing (the territory is dropped and counted)
 * @param treated 1/true = treatment, 0/false = control, aligned with y
 * @param opts.alpha level of the Welch CI on Y_adj (default 0.05)
 * @throws RangeError on mismatched lengths or non-finite values
 * Sources: Deng et al. (2013); reference numpy closed form + scipy ttest_ind (cuped.json).
 */
export function cuped(
  y: readonly number[],
  x: readonly (number | null)[],
  treated: readonly (0 | 1 | boolean)[],
  opts: { alpha?: number } = {},
): CupedResult {
  checkArrays(y, x, treated);
  const alpha = opts.alpha ?? 0.05;
  const keep = x.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
  const ys = keep.map((i) => y[i]);
  const xs = keep.map((i) => x[i] as number);
  const ts = keep.map((i) => Boolean(treated[i]));
  const sel = <T>(arr: T[], t: boolean) => arr.filter((_, i) => ts[i] === t);
  const n = keep.length;
  const n_t = ts.filter(Boolean).length;
  const n_c = n - n_t;
  const mean_x = mean(xs);
  const var_x = sampleVariance(xs);
  const mean_y = mean(ys);
  let cov_yx: number | null = null;
  if (n >= 2 && mean_x !== null && mean_y !== null) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (ys[i] - mean_y) * (xs[i] - mean_x);
    cov_yx = s / (n - 1);
  }
  const var_y = sampleVariance(ys);
  const theta = cov_yx !== null && var_x !== null && var_x > 0 ? cov_yx / var_x : null;
  const yAdj = theta !== null && mean_x !== null ? ys.map((v, i) => v - theta * (xs[i] - mean_x)) : null;
  const unadj = welchTTest(sel(ys, true), sel(ys, false), { alpha });
  const adj = yAdj ? welchTTest(sel(yAdj, true), sel(yAdj, false), { alpha }) : null;
  const corr = cov_yx !== null && var_x && var_y ? cov_yx / Math.sqrt(var_x * var_y) : null;
  const adjustedValues: (number | null)[] = x.map(() => null);
  if (yAdj) keep.forEach((i, k) => (adjustedValues[i] = yAdj[k]));
  let status: CupedResult['status'] = 'ok';
  if (n_t < 2 || n_c < 2) status = 'insufficient_data';
  else if (theta === null) status = 'constant_covariate';
  else if (adj && adj.status === 'zero_variance') status = 'zero_variance';
  const seAdj = adj?.se ?? null;
  const seUn = unadj.se;
  return {
    method: 'cuped_pooled_theta',
    status,
    n,
    n_t,
    n_c,
    n_dropped_missing_x: x.length - n,
    mean_x,
    mean_x_t: mean(sel(xs, true)),
    mean_x_c: mean(sel(xs, false)),
    mean_y_t: unadj.mean_t,
    mean_y_c: unadj.mean_c,
    cov_yx,
    var_x,
    theta,
    adj_mean_t: adj?.mean_t ?? null,
    adj_mean_c: adj?.mean_c ?? null,
    effect_unadjusted: unadj.diff,
    se_unadjusted: seUn,
    effect_adjusted: adj?.diff ?? null,
    se_adjusted: seAdj,
    adjusted_welch: {
      t: adj?.t ?? null,
      df: adj?.df ?? null,
      p_two_sided: adj?.p_two_sided ?? null,
      ci_low: adj?.ci_low ?? null,
      ci_high: adj?.ci_high ?? null,
    },
    variance_ratio_pooled: corr !== null ? 1 - corr * corr : null,
    corr_yx: corr,
    variance_ratio_estimator: seAdj !== null && seUn !== null && seUn > 0 ? (seAdj * seAdj) / (seUn * seUn) : null,
    adjusted_values: adjustedValues,
    conf_level: 1 - alpha,
  };
}

/** The ANCOVA OLS block of cuped.json: Y ~ 1 + T + (X − mean X). */
export interface AncovaResult {
  coef_intercept: number;
  coef_t: number;
  coef_xc: number;
  df_resid: number;
  se_classic: number | null;
  p_classic_t: number | null;
  se_hc0: number | null;
  p_hc0_normal: number | null;
  p_hc0_t: number | null;
  se_hc1: number | null;
  p_hc1_normal: number | null;
  p_hc1_t: number | null;
  se_hc2: number | null;
  p_hc2_normal: number | null;
  p_hc2_t: number | null;
  se_hc3: number | null;
  p_hc3_normal: number | null;
  p_hc3_t: number | null;
}

/**
 * ANCOVA (common slope) by OLS Y ~ 1 + T + (X − mean X) with classic and HC0–HC3 standard errors of
 * the T coefficient; p-values with the normal (statsmodels default for robust covariances) and with
 * Student t on n − 3 df. Territories with missing X are dropped.
 * Source: statsmodels OLS(...).fit(cov_type='HC0'..'HC3'); MacKinnon & White (1985).
 * @throws RangeError on mismatched lengths or collinear columns
 */
export function ancova(y: readonly number[], x: readonly (number | null)[], treated: readonly (0 | 1 | boolean)[]): AncovaResult {
  checkArrays(y, x, treated);
  const keep = x.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
  const mx = mean(keep.map((i) => x[i] as number)) ?? 0;
  const design: Matrix = keep.map((i) => [1, treated[i] ? 1 : 0, (x[i] as number) - mx]);
  const fit = olsFit(
    design,
    keep.map((i) => y[i]),
  );
  const df = fit.n - fit.k;
  const b = fit.coef[1];
  const se = (v: Matrix | null) => (v && v[1][1] >= 0 ? Math.sqrt(v[1][1]) : null);
  const out: Record<string, number | null> = {
    coef_intercept: fit.coef[0],
    coef_t: b,
    coef_xc: fit.coef[2],
    df_resid: df,
  };
  const classic = se(classicCovariance(fit));
  out.se_classic = classic;
  out.p_classic_t = classic && df > 0 ? twoSidedT(b / classic, df) : null;
  for (const type of ['HC0', 'HC1', 'HC2', 'HC3'] as HcType[]) {
    const s = se(hcCovariance(fit, type));
    const key = type.toLowerCase();
    out[`se_${key}`] = s;
    out[`p_${key}_normal`] = s ? twoSidedZ(b / s) : null;
    out[`p_${key}_t`] = s && df > 0 ? twoSidedT(b / s, df) : null;
  }
  return out as unknown as AncovaResult;
}

/** The columns of Lin's regression, in the order the rank check keeps them (earlier ones first). */
export type LinColumn = 'intercept' | 'treatment' | 'x_centred' | 'treatment_x_centred' | 'missing_indicator' | 'treatment_missing_indicator';
const LIN_COLUMNS: readonly LinColumn[] = ['intercept', 'treatment', 'x_centred', 'treatment_x_centred', 'missing_indicator', 'treatment_missing_indicator'];
const LIN_LABELS: Record<LinColumn, string> = {
  intercept: 'the intercept',
  treatment: 'the treatment indicator',
  x_centred: 'the centred pre-period value',
  treatment_x_centred: 'the treatment × pre-period interaction',
  missing_indicator: 'the missing-pre-period indicator',
  treatment_missing_indicator: 'the treatment × missing-pre-period interaction',
};

/** A regression column left out because the sample cannot tell it apart from the others. */
export interface LinDroppedColumn {
  column: LinColumn;
  /** why, in words */
  reason: string;
}

/** Result of `linRegressionAdjustment`. */
export interface LinAdjustmentResult {
  method: 'lin_interacted_ols_hc2';
  status: 'ok' | 'insufficient_data' | 'zero_variance';
  /** how territories with a missing pre-period value were handled */
  missing_x: 'drop' | 'mean_impute';
  n: number;
  n_t: number;
  n_c: number;
  /** territories whose X was missing (dropped or imputed, see missing_x) */
  n_missing_x: number;
  /** number of regression columns fitted (after dropping aliased ones) */
  k: number;
  /** the columns fitted */
  columns: LinColumn[];
  /** columns left out before the fit: identically 0 or collinear with the columns before them */
  dropped_columns: LinDroppedColumn[];
  /** input positions of territories fitted exactly (leverage 1) that carry no weight in the estimate */
  exact_fit: number[];
  estimate: number | null;
  se: number | null;
  /** n − k */
  df: number | null;
  t: number | null;
  p_value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  conf_level: number;
  /** what was done to the design (dropped columns, exactly fitted territories), in words; null when nothing */
  note: string | null;
  /** why the estimate or its SE is missing, in words; null when status is 'ok' */
  reason: string | null;
}

/** Why an aliased column was dropped, in words. */
function droppedReason(column: LinColumn, combinationOf: LinColumn[], missingArms: { t: number; c: number }): string {
  const label = LIN_LABELS[column];
  if (column === 'treatment_missing_indicator' && missingArms.t === 0) return `${label}, because no territory without a pre-period value is in the treatment arm, so it is 0 everywhere`;
  if (column === 'treatment_missing_indicator' && missingArms.c === 0) {
    return `${label}, because every territory without a pre-period value is in the treatment arm, so it duplicates the missing-pre-period indicator`;
  }
  if (column === 'x_centred' || column === 'treatment_x_centred') return `${label}, because the pre-period value does not vary among these territories`;
  if (combinationOf.length === 0) return `${label}, because it is 0 for every territory`;
  return `${label}, because it is a linear combination of ${combinationOf.map((c) => LIN_LABELS[c]).join(', ')} in these territories`;
}

/** The design matrix of Lin's regression over the rows `idx` (Xc = X − mx; missing X: Xc = 0 and D = 1). */
function linDesign(idx: readonly number[], x: readonly (number | null)[], treated: readonly (0 | 1 | boolean)[], mx: number, useIndicator: boolean): Matrix {
  return idx.map((i) => {
    const t = treated[i] ? 1 : 0;
    const xc = (x[i] ?? mx) - mx;
    const row = [1, t, xc, t * xc];
    if (useIndicator) {
      const d = x[i] === null ? 1 : 0;
      row.push(d, t * d);
    }
    return row;
  });
}

/**
 * Lin's (2013) interacted regression adjustment: OLS Y ~ 1 + T + Xc + T·Xc (Xc = X − pooled mean of
 * X), effect = coefficient of T, HC2 standard error, Student t with n − k df; the (1 − α) CI uses
 * the same t quantile, so p < α exactly when the CI excludes 0.
 * Missing X: 'mean_impute' (default) sets X to the observed mean and adds the indicator D and T·D;
 * 'drop' leaves those territories out. X is never filled with 0.
 * Aliased columns (identically 0 or collinear with the columns before them in this sample, e.g. T·D
 * when every imputed territory is treated) are found by a rank-revealing Gram–Schmidt with relative
 * tolerance 1e-7 (`aliasedColumns`) and dropped before the fit; `dropped_columns` and `note` say which
 * and why. A territory fitted exactly (leverage 1, e.g. the only imputed territory of its arm) that
 * carries no weight in the estimate adds nothing to its HC2 variance (`hcCoefficientVariance`) and is
 * listed in `exact_fit`; one that does carry weight makes HC2 undefined: null SE with the reason.
 * @param y KPI per territory; @param x pre-period value or null; @param treated 1 = treatment
 * @returns status 'insufficient_data' (with `reason`) when an arm has fewer than 2 territories, no X is
 *   observed, n ≤ k, or HC2 is undefined; 'zero_variance' when the HC2 SE is 0
 * Sources: Lin (2013); Imbens & Rubin (2015) ch. 7; HC2: MacKinnon & White (1985).
 */
export function linRegressionAdjustment(
  y: readonly number[],
  x: readonly (number | null)[],
  treated: readonly (0 | 1 | boolean)[],
  opts: { alpha?: number; missingX?: 'drop' | 'mean_impute' } = {},
): LinAdjustmentResult {
  checkArrays(y, x, treated);
  const alpha = opts.alpha ?? 0.05;
  const missingMode = opts.missingX ?? 'mean_impute';
  const nMissing = x.filter((v) => v === null).length;
  const idx = missingMode === 'drop' ? x.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0) : y.map((_, i) => i);
  const mx = mean(x.filter((v): v is number => v !== null));
  const n = idx.length;
  const n_t = idx.filter((i) => treated[i]).length;
  const n_c = n - n_t;
  const useIndicator = missingMode === 'mean_impute' && nMissing > 0 && nMissing < x.length;
  const allColumns = LIN_COLUMNS.slice(0, useIndicator ? 6 : 4);
  const empty: LinAdjustmentResult = {
    method: 'lin_interacted_ols_hc2',
    status: 'insufficient_data',
    missing_x: missingMode,
    n,
    n_t,
    n_c,
    n_missing_x: nMissing,
    k: allColumns.length,
    columns: [...allColumns],
    dropped_columns: [],
    exact_fit: [],
    estimate: null,
    se: null,
    df: null,
    t: null,
    p_value: null,
    ci_low: null,
    ci_high: null,
    conf_level: 1 - alpha,
    note: null,
    reason: null,
  };
  if (n_t < 2 || n_c < 2) return { ...empty, reason: `each arm needs at least 2 territories (treatment ${n_t}, control ${n_c})` };
  if (mx === null) return { ...empty, reason: 'no territory has a pre-period value' };
  const rows = linDesign(idx, x, treated, mx, useIndicator);
  const missingArms = { t: idx.filter((i) => x[i] === null && treated[i]).length, c: idx.filter((i) => x[i] === null && !treated[i]).length };
  const { kept, aliased } = aliasedColumns(rows);
  const dropped = aliased.map((a) => ({
    column: allColumns[a.column],
    reason: droppedReason(
      allColumns[a.column],
      a.combination_of.map((j) => allColumns[j]),
      missingArms,
    ),
  }));
  const columns = kept.map((j) => allColumns[j]);
  const k = kept.length;
  const droppedNote = dropped.length ? `left out of the regression, as these territories cannot tell it apart from the other columns: ${dropped.map((d) => d.reason).join('; ')}` : null;
  const shaped = { ...empty, k, columns, dropped_columns: dropped, note: droppedNote };
  if (kept[0] !== 0 || kept[1] !== 1) return { ...shaped, reason: 'the treatment indicator is collinear with the intercept' };
  if (n <= k) return { ...shaped, reason: `${n} territories for ${k} regression columns leave no residual degrees of freedom` };
  const fit = olsFit(
    rows.map((r) => kept.map((j) => r[j])),
    idx.map((i) => y[i]),
  );
  const estimate = fit.coef[1];
  const hc2 = hcCoefficientVariance(fit, 'HC2', 1);
  const exactFit = hc2.exact_rows.filter((r) => !hc2.influential_exact_rows.includes(r)).map((r) => idx[r]);
  const exactNote = exactFit.length
    ? `${exactFit.length} ${exactFit.length === 1 ? 'territory is' : 'territories are'} fitted exactly by a column of ${exactFit.length === 1 ? 'its' : 'their'} own (leverage 1, e.g. the only territory without a pre-period value in its arm): no weight in the estimate nor in its HC2 standard error`
    : null;
  const note = [droppedNote, exactNote].filter((s): s is string => s !== null).join('; ') || null;
  const df = n - k;
  if (hc2.variance === null) {
    const m = hc2.influential_exact_rows.length;
    const reason = `${m} ${m === 1 ? 'territory is' : 'territories are'} fitted exactly (leverage 1) yet carry weight in the estimate, so its HC2 standard error is undefined (too few territories in an arm for its regression columns)`;
    return { ...shaped, exact_fit: exactFit, note, estimate, df, reason };
  }
  const se = Math.sqrt(Math.max(0, hc2.variance));
  if (isZeroSe(se, estimate)) {
    const reason = 'the regression fits every territory exactly, so the HC2 standard error is 0 and the t-test is undefined';
    return { ...shaped, exact_fit: exactFit, note, status: 'zero_variance', estimate, se: 0, df, reason };
  }
  const t = estimate / se;
  const q = studentTInv(1 - alpha / 2, df);
  return {
    ...shaped,
    exact_fit: exactFit,
    note,
    status: 'ok',
    estimate,
    se,
    df,
    t,
    p_value: twoSidedT(t, df),
    ci_low: estimate - q * se,
    ci_high: estimate + q * se,
  };
}
