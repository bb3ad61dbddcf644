/**
 * Difference-in-differences on a territory × period panel (PilotLab: territory × ISO week, a complete
 * calendar in which a week without deals is a 0, not a missing row).
 *
 * Conventions (shared/reference/did.json):
 *  - model y_it = b0 + b1·treated_i + b2·post_t + b3·treated_i·post_t by OLS over all rows; effect = b3;
 *  - did_2x2 = (mean y[T, post] − mean y[T, pre]) − (mean y[C, post] − mean y[C, pre]) over rows (= b3);
 *  - CR1 cluster-robust SE by territory with c = G/(G − 1)·(N − 1)/(N − 4) (statsmodels default),
 *    normal inference and Student t with G − 1 df (Stata convention);
 *  - territory change score δ_i = mean(post rows) − mean(pre rows), Welch t-test of δ between arms.
 * PilotLab adds CR2 (Bell & McCaffrey 2002) with the Bell–McCaffrey small-sample df, which is what
 * reports use (see linear-model.ts); for a balanced panel its SE equals the Welch SE of the change
 * scores (Imbens & Kolesár 2016).
 */
import { normalInv, normalSf, studentTInv, studentTSf } from './distributions';
import { classicCovariance, cr1Covariance, cr2Coefficient, OlsFit, olsFit } from './linear-model';
import { welchTTest } from './welch';
import { isZeroSe } from './zero-se';

const P_FLOOR = Number.MIN_VALUE;

/** One panel row per territory and period. */
export interface DidPanelInput {
  territory: readonly string[];
  /** period label (e.g. ISO week); only used for validation of duplicates */
  period: readonly (string | number)[];
  treated: readonly (0 | 1 | boolean)[];
  post: readonly (0 | 1 | boolean)[];
  y: readonly number[];
}

/** Cluster-robust inference for b3 at level 1 − α. */
export interface DidClusterInference {
  se: number | null;
  df: number | null;
  t: number | null;
  p_value: number | null;
  ci_low: number | null;
  ci_high: number | null;
}

/** Result of `differenceInDifferences`. */
export interface DidResult {
  status: 'ok' | 'insufficient_data' | 'zero_variance';
  n_obs: number;
  n_clusters: number;
  cell_means: { treated_pre: number | null; treated_post: number | null; control_pre: number | null; control_post: number | null };
  did_2x2: number | null;
  ols: {
    coef_did: number | null;
    coef_treated: number | null;
    coef_post: number | null;
    coef_intercept: number | null;
    se_classic: number | null;
    se_cluster: number | null;
    p_cluster_normal: number | null;
    ci95_cluster_normal: [number, number] | null;
    p_cluster_t: number | null;
    ci95_cluster_t: [number, number] | null;
    /** G − 1 */
    t_df: number | null;
  };
  /** CR2 with Bell–McCaffrey df at level 1 − α: the inference reports use */
  cr2: DidClusterInference & { method: 'ols_cr2_bell_mccaffrey' };
  territory_change_welch: {
    effect: number | null;
    t: number | null;
    df: number | null;
    p_two_sided: number | null;
    ci_low: number | null;
    ci_high: number | null;
    n_t: number;
    n_c: number;
  };
  conf_level: number;
}

function cellMean(values: number[]): number | null {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
}

/**
 * Validates the panel and returns the arm of each territory (true = treated).
 * @throws RangeError on mismatched lengths, non-finite y, duplicate rows or a territory switching arm
 */
function validatePanel(input: DidPanelInput): Map<string, boolean> {
  const n = input.y.length;
  for (const arr of [input.territory, input.period, input.treated, input.post]) {
    if (arr.length !== n) throw new RangeError('territory, period, treated, post and y must have the same length');
  }
  const armOf = new Map<string, boolean>();
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(input.y[i])) throw new RangeError(`y must be finite, got ${input.y[i]}`);
    const t = input.territory[i];
    const tr = Boolean(input.treated[i]);
    if (armOf.has(t) && armOf.get(t) !== tr) throw new RangeError(`territory ${t} is in both arms`);
    armOf.set(t, tr);
    const key = `${t}\u0000${String(input.period[i])}`;
    if (seen.has(key)) throw new RangeError(`territory ${t} has period ${String(input.period[i])} twice`);
    seen.add(key);
  }
  return armOf;
}

/**
 * The four arm × period cell means over rows and did_2x2 = (T post − T pre) − (C post − C pre)
 * (null when a cell is empty).
 */
function cellMeansAndDid2x2(input: DidPanelInput): Pick<DidResult, 'cell_means' | 'did_2x2'> {
  const cells = { tp: [] as number[], tq: [] as number[], cp: [] as number[], cq: [] as number[] };
  for (let i = 0; i < input.y.length; i++) {
    const tr = Boolean(input.treated[i]);
    const po = Boolean(input.post[i]);
    (tr ? (po ? cells.tq : cells.tp) : po ? cells.cq : cells.cp).push(input.y[i]);
  }
  const cell_means = {
    treated_pre: cellMean(cells.tp),
    treated_post: cellMean(cells.tq),
    control_pre: cellMean(cells.cp),
    control_post: cellMean(cells.cq),
  };
  const defined = Object.values(cell_means).every((v) => v !== null);
  const did_2x2 = defined
    ? cell_means.treated_post! - cell_means.treated_pre! - (cell_means.control_post! - cell_means.control_pre!)
    : null;
  return { cell_means, did_2x2 };
}

/**
 * Territory change scores δ_i = mean(post rows) − mean(pre rows), split by arm (territories lacking
 * pre or post rows are left out), and the number of territories G (clusters).
 */
function territoryChangeScores(input: DidPanelInput, armOf: ReadonlyMap<string, boolean>): { dT: number[]; dC: number[]; G: number } {
  const sums = new Map<string, { pre: number; npre: number; post: number; npost: number }>();
  for (let i = 0; i < input.y.length; i++) {
    const s = sums.get(input.territory[i]) ?? { pre: 0, npre: 0, post: 0, npost: 0 };
    if (input.post[i]) {
      s.post += input.y[i];
      s.npost++;
    } else {
      s.pre += input.y[i];
      s.npre++;
    }
    sums.set(input.territory[i], s);
  }
  const dT: number[] = [];
  const dC: number[] = [];
  for (const [t, s] of sums) {
    if (s.npre === 0 || s.npost === 0) continue;
    (armOf.get(t) ? dT : dC).push(s.post / s.npost - s.pre / s.npre);
  }
  return { dT, dC, G: sums.size };
}

const NULL_OLS: DidResult['ols'] = {
  coef_did: null,
  coef_treated: null,
  coef_post: null,
  coef_intercept: null,
  se_classic: null,
  se_cluster: null,
  p_cluster_normal: null,
  ci95_cluster_normal: null,
  p_cluster_t: null,
  ci95_cluster_t: null,
  t_df: null,
};

const NULL_CR2: DidResult['cr2'] = { method: 'ols_cr2_bell_mccaffrey', se: null, df: null, t: null, p_value: null, ci_low: null, ci_high: null };

/** The result with the descriptive parts filled in and every OLS / CR2 field null ('insufficient_data'). */
function insufficientDid(
  n: number,
  G: number,
  cells: Pick<DidResult, 'cell_means' | 'did_2x2'>,
  w: ReturnType<typeof welchTTest>,
  dT: readonly number[],
  dC: readonly number[],
  alpha: number,
): DidResult {
  return {
    status: 'insufficient_data',
    n_obs: n,
    n_clusters: G,
    cell_means: cells.cell_means,
    did_2x2: cells.did_2x2,
    ols: { ...NULL_OLS },
    cr2: { ...NULL_CR2 },
    territory_change_welch: {
      effect: w.diff,
      t: w.t,
      df: w.df,
      p_two_sided: w.p_two_sided,
      ci_low: w.ci_low,
      ci_high: w.ci_high,
      n_t: dT.length,
      n_c: dC.length,
    },
    conf_level: 1 - alpha,
  };
}

/** The OLS fit of y on [1, treated, post, treated·post] (one row per panel row). */
function fitDidModel(input: DidPanelInput): OlsFit {
  const x = Array.from({ length: input.y.length }, (_, i) => {
    const tr = input.treated[i] ? 1 : 0;
    const po = input.post[i] ? 1 : 0;
    return [1, tr, po, tr * po];
  });
  return olsFit(x, input.y);
}

/**
 * Coefficients, classic SE and CR1 cluster-robust inference for b3 (95%: normal, and Student t
 * with G − 1 df), statsmodels cov_type='cluster' conventions.
 */
function olsClusterInference(fit: OlsFit, territory: readonly string[], G: number): DidResult['ols'] {
  const b = fit.coef[3];
  const classic = classicCovariance(fit);
  const cr1 = cr1Covariance(fit, territory);
  const seCl = cr1 && cr1[3][3] > 0 ? Math.sqrt(cr1[3][3]) : null;
  const z = normalInv(0.975);
  const tq = studentTInv(0.975, G - 1);
  return {
    coef_did: b,
    coef_treated: fit.coef[1],
    coef_post: fit.coef[2],
    coef_intercept: fit.coef[0],
    se_classic: classic ? Math.sqrt(Math.max(0, classic[3][3])) : null,
    se_cluster: seCl,
    p_cluster_normal: seCl ? Math.max(P_FLOOR, 2 * normalSf(Math.abs(b / seCl))) : null,
    ci95_cluster_normal: seCl ? [b - z * seCl, b + z * seCl] : null,
    p_cluster_t: seCl ? Math.max(P_FLOOR, Math.min(1, 2 * studentTSf(Math.abs(b / seCl), G - 1))) : null,
    ci95_cluster_t: seCl ? [b - tq * seCl, b + tq * seCl] : null,
    t_df: G - 1,
  };
}

/**
 * CR2 inference for b3 with the Bell–McCaffrey df at level 1 − alpha (linear-model.ts
 * `cr2Coefficient`): status 'insufficient_data' when CR2 has no df, 'zero_variance' when the SE is
 * below 1e-12·max(1, |b3|), else 'ok'.
 */
function cr2Inference(fit: OlsFit, territory: readonly string[], alpha: number): { status: DidResult['status']; cr2: DidResult['cr2'] } {
  const b = fit.coef[3];
  const cr2 = cr2Coefficient(fit, territory, 3);
  if (!cr2 || cr2.df === null) return { status: 'insufficient_data', cr2: { ...NULL_CR2 } };
  const se = Math.sqrt(Math.max(0, cr2.variance));
  if (isZeroSe(se, b)) return { status: 'zero_variance', cr2: { ...NULL_CR2, se: 0, df: cr2.df } };
  const q = studentTInv(1 - alpha / 2, cr2.df);
  return {
    status: 'ok',
    cr2: {
      method: 'ols_cr2_bell_mccaffrey',
      se,
      df: cr2.df,
      t: b / se,
      p_value: Math.max(P_FLOOR, Math.min(1, 2 * studentTSf(Math.abs(b / se), cr2.df))),
      ci_low: b - q * se,
      ci_high: b + q * se,
    },
  };
}

/**
 * Difference-in-differences of a territory × period panel (see the file header).
 * @param input parallel arrays, one entry per territory-period row; `treated` must be constant
 *   within a territory; a (territory, period) pair may appear once
 * @param opts.alpha level of the CR2 and change-score CIs (default 0.05); the ci95_* fields are
 *   always 95% (reference convention)
 * @throws RangeError on mismatched lengths, non-finite y, duplicate rows or a territory switching arm
 * Sources: Bell & McCaffrey (2002), Survey Methodology 28; Cameron & Miller (2015), JHR 50;
 *   statsmodels OLS cov_type='cluster'; Angrist & Pischke (2009) ch. 5.
 */
export function differenceInDifferences(input: DidPanelInput, opts: { alpha?: number } = {}): DidResult {
  const alpha = opts.alpha ?? 0.05;
  const armOf = validatePanel(input);
  const cells = cellMeansAndDid2x2(input);
  const { dT, dC, G } = territoryChangeScores(input, armOf);
  const w = welchTTest(dT, dC, { alpha });
  const result = insufficientDid(input.y.length, G, cells, w, dT, dC, alpha);
  if (cells.did_2x2 === null || dT.length < 2 || dC.length < 2) return result;

  const fit = fitDidModel(input);
  result.ols = olsClusterInference(fit, input.territory, G);
  const { status, cr2 } = cr2Inference(fit, input.territory, alpha);
  result.status = status;
  result.cr2 = cr2;
  return result;
}
