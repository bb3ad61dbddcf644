/**
 * Every few-cluster method for one OLS coefficient side by side, with the diagnostics and the fragile
 * flag: what a report shows for a panel (difference-in-differences, pair or territory fixed effects)
 * or a territory-level regression-adjusted estimate. One method decides (the locked plan names it);
 * the others are robustness. Each row has p < α exactly when its (1 − α) CI excludes the null value:
 *  - 'cr2_bell_mccaffrey': CR2 SE, t with the Bell–McCaffrey df (Bell & McCaffrey 2002);
 *  - 'cr2_imbens_kolesar': CR2 SE, t with the Imbens–Kolesár df (Imbens & Kolesár 2016);
 *  - 'cr3_jackknife': CR3 SE, t with G − 1 df (MacKinnon, Nielsen & Webb 2023);
 *  - 'wild_cluster_bootstrap': WCR p and CI by test inversion (Cameron, Gelbach & Miller 2008);
 *  - 'cr1_t': CR1 SE (statsmodels/Stata factor), t with G − 1 df, the common default, for reference.
 * See cluster-small-sample.ts, wild-cluster-bootstrap.ts and few-cluster-diagnostics.ts for formulas.
 */
import { studentTInv, studentTSf } from './distributions';
import { cr2WithImbensKolesarDf, cr3Jackknife } from './cluster-small-sample';
import { fewClusterDiagnostics, FewClusterDiagnostics, fragility, FragilityResult } from './few-cluster-diagnostics';
import { cr1Covariance, Matrix, olsFit } from './linear-model';
import { wildClusterBootstrap, WildWeights } from './wild-cluster-bootstrap';
import { isZeroSe } from './zero-se';

/** Method keys of `fewClusterInference`. */
export type FewClusterMethod = 'cr2_bell_mccaffrey' | 'cr2_imbens_kolesar' | 'cr3_jackknife' | 'wild_cluster_bootstrap' | 'cr1_t';

/** The method that decides when the locked plan names none (issue 14): the wild cluster restricted bootstrap. */
export const DEFAULT_FEW_CLUSTER_METHOD: FewClusterMethod = 'wild_cluster_bootstrap';

/** Plain-language names (user-facing text never shows the keys). */
export const FEW_CLUSTER_METHOD_LABELS: Record<FewClusterMethod, string> = {
  cr2_bell_mccaffrey: 'cluster-robust CR2, Bell–McCaffrey df',
  cr2_imbens_kolesar: 'cluster-robust CR2, Imbens–Kolesár df',
  cr3_jackknife: 'cluster jackknife (CR3)',
  wild_cluster_bootstrap: 'wild cluster bootstrap (null imposed)',
  cr1_t: 'cluster-robust CR1, G − 1 df',
};

/** One method's inference. */
export interface FewClusterRow {
  method: FewClusterMethod;
  label: string;
  deciding: boolean;
  estimate: number | null;
  se: number | null;
  df: number | null;
  p_value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  note: string | null;
}

/** Result of `fewClusterInference`. */
export interface FewClusterInferenceResult {
  estimate: number;
  conf_level: number;
  null_value: number;
  deciding_method: FewClusterMethod;
  methods: FewClusterRow[];
  diagnostics: FewClusterDiagnostics;
  fragility: FragilityResult;
}

/**
 * One t-based row: estimate ± t_{1−α/2, df}·SE and the two-sided p against `r`; null p and CI when the
 * variance or df is undefined, and when the SE is 0 up to rounding (SE ≤ 1e-12·max(1, |est|), the
 * shared rule, {@link isZeroSe}): residuals of an exact fit are
 * rounding noise, and dividing by their SE would report p ≈ 0 for data without any variation.
 */
function tRow(method: FewClusterMethod, deciding: boolean, est: number, variance: number | null, df: number | null, alpha: number, r: number, note: string | null = null): FewClusterRow {
  const base = { method, label: FEW_CLUSTER_METHOD_LABELS[method], deciding, estimate: est };
  if (variance === null || df === null || !(variance > 0) || !(df > 0)) {
    return { ...base, se: variance === null ? null : Math.sqrt(Math.max(0, variance)), df, p_value: null, ci_low: null, ci_high: null, note: note ?? 'not defined for these data' };
  }
  const se = Math.sqrt(variance);
  if (isZeroSe(se, est)) {
    return { ...base, se: 0, df, p_value: null, ci_low: null, ci_high: null, note: note ?? 'the cluster-robust standard error is 0' };
  }
  const q = studentTInv(1 - alpha / 2, df);
  const p = Math.min(1, Math.max(Number.MIN_VALUE, 2 * studentTSf(Math.abs((est - r) / se), df)));
  return { ...base, se, df, p_value: p, ci_low: est - q * se, ci_high: est + q * se, note };
}

/**
 * The few-cluster methods' rows for coefficient j of y = Xb + e clustered by territory, without the
 * diagnostics and the fragile flag (`fewClusterInference` adds them). `methods` limits which rows
 * are computed (the others come back with null p and CI and the note 'not computed'); the
 * calibration bench uses it to skip CR2's Imbens–Kolesár df where its cost would not fit the grid.
 * @param input, opts as `fewClusterInference`; opts.methods the rows to compute (default all)
 * @returns the OLS estimate, the number of clusters and one row per method (FEW_CLUSTER_METHOD_LABELS order)
 * @throws RangeError on mismatched lengths, non-finite values, collinear columns or fewer than 2 clusters
 */
export function fewClusterRows(
  input: { x: Matrix; y: readonly number[]; clusters: readonly string[]; coefficient: number },
  opts: { alpha?: number; nullValue?: number; deciding?: FewClusterMethod; draws?: number; seed?: number; maxEnumeration?: number; weights?: 'auto' | WildWeights; ci?: boolean; methods?: readonly FewClusterMethod[] } = {},
): { estimate: number; clusters: number; fit: ReturnType<typeof olsFit>; methods: FewClusterRow[] } {
  const { x, y, clusters, coefficient: j } = input;
  const alpha = opts.alpha ?? 0.05;
  const r = opts.nullValue ?? 0;
  const deciding = opts.deciding ?? DEFAULT_FEW_CLUSTER_METHOD;
  const want = (m: FewClusterMethod) => !opts.methods || opts.methods.includes(m);
  const fit = olsFit(x, y);
  const wcr = wildClusterBootstrap({ x, y, clusters, coefficient: j, alpha, nullValue: r, draws: opts.draws, seed: opts.seed, maxEnumeration: opts.maxEnumeration, weights: opts.weights, ci: opts.ci, fit });
  if (wcr.clusters < 2) throw new RangeError('few-cluster inference needs at least 2 clusters');
  const est = fit.coef[j];
  const G = wcr.clusters;
  const notComputed = 'not computed';
  const cr2 = want('cr2_bell_mccaffrey') || want('cr2_imbens_kolesar') ? cr2WithImbensKolesarDf(fit, clusters, j) : null;
  const cr3 = want('cr3_jackknife') ? cr3Jackknife(fit, clusters, j) : { variance: null, df: null, reason: notComputed };
  const cr1 = want('cr1_t') ? cr1Covariance(fit, clusters) : null;
  const methods: FewClusterRow[] = [
    tRow('cr2_bell_mccaffrey', deciding === 'cr2_bell_mccaffrey', est, cr2?.variance ?? null, cr2?.df_bell_mccaffrey ?? null, alpha, r, want('cr2_bell_mccaffrey') ? null : notComputed),
    tRow('cr2_imbens_kolesar', deciding === 'cr2_imbens_kolesar', est, cr2?.variance ?? null, cr2?.df_imbens_kolesar ?? null, alpha, r, want('cr2_imbens_kolesar') ? null : notComputed),
    tRow('cr3_jackknife', deciding === 'cr3_jackknife', est, cr3.variance, cr3.df, alpha, r, cr3.reason),
    {
      method: 'wild_cluster_bootstrap',
      label: FEW_CLUSTER_METHOD_LABELS.wild_cluster_bootstrap,
      deciding: deciding === 'wild_cluster_bootstrap',
      estimate: est,
      se: wcr.se_cr1,
      df: null,
      p_value: wcr.p_value,
      ci_low: wcr.ci_low,
      ci_high: wcr.ci_high,
      note: `${wcr.weights === 'webb' ? 'Webb six-point' : 'Rademacher'} weights, ${wcr.enumeration ? `all ${wcr.draws * 2} weight vectors enumerated` : `${wcr.draws} draws (seed ${wcr.seed})`}${wcr.note ? `; ${wcr.note}` : ''}`,
    },
    tRow('cr1_t', deciding === 'cr1_t', est, cr1 ? cr1[j][j] : null, want('cr1_t') ? G - 1 : null, alpha, r, want('cr1_t') ? null : notComputed),
  ];
  return { estimate: est, clusters: G, fit, methods };
}

/**
 * Runs every few-cluster method for coefficient j of y = Xb + e clustered by territory.
 * @param input x (N × k, intercept included), y (N), clusters (N territory labels), coefficient j
 * @param opts alpha (default 0.05), nullValue (0), the deciding method (default the wild cluster
 *   bootstrap), WCR draws/seed/maxEnumeration/weights (see wildClusterBootstrap)
 * @throws RangeError on mismatched lengths, non-finite values, collinear columns or fewer than 2 clusters
 */
export function fewClusterInference(
  input: { x: Matrix; y: readonly number[]; clusters: readonly string[]; coefficient: number },
  opts: { alpha?: number; nullValue?: number; deciding?: FewClusterMethod; draws?: number; seed?: number; maxEnumeration?: number; weights?: 'auto' | WildWeights } = {},
): FewClusterInferenceResult {
  const alpha = opts.alpha ?? 0.05;
  const deciding = opts.deciding ?? DEFAULT_FEW_CLUSTER_METHOD;
  const { estimate, fit, methods } = fewClusterRows(input, opts);
  return {
    estimate,
    conf_level: 1 - alpha,
    null_value: opts.nullValue ?? 0,
    deciding_method: deciding,
    methods,
    diagnostics: fewClusterDiagnostics(fit, input.clusters, input.coefficient),
    fragility: fragility(methods.map((m) => ({ method: m.label, p_value: m.p_value })), alpha),
  };
}
