/**
 * The analyses that follow the pilot's design, beside the report's deciding method (issue 14):
 *  - complete randomization: Welch t and the studentized randomization test (Welch t re-drawn);
 *  - stratified: the stratum-weighted difference with its Neyman SE (stratifiedDifference) and
 *    randomization inference with the stratum-weighted statistic and its studentized version;
 *  - matched pairs: the paired t over pair differences and the studentized sign-flip test;
 *  - rerandomization: Lin's regression adjustment on the BALANCING covariates (HC2, n − k df;
 *    Li, Ding & Rubin 2018) and the studentized randomization test of that regression under the
 *    acceptance rule;
 *  - the weekly panel (additive KPIs): the DiD with pair (matched pairs) or stratum (stratified)
 *    fixed effects, every few-cluster method, the diagnostics and the fragile flag
 *    (fewClusterInference); the locked plan's few_cluster_method decides the panel (default the wild
 *    cluster bootstrap), the other methods are robustness.
 * Welch on a matched-pairs or rerandomized design ignores the design: it is shown only as a labelled
 * naive comparison (role 'naive_comparison') and never enters the fragile flag.
 * The few-cluster panel methods run for at most FEW_CLUSTER_MAX_TERRITORIES territories (they are
 * for few clusters; above that CR2 with the Bell–McCaffrey df of the existing panel block suffices),
 * and the randomization-t CI for at most that many territories.
 * Pure: no Nest, TypeORM or I/O. Sources: see the stats modules it calls.
 */
import type { RandomizationDesign } from '../../stats/design/designs';
import { didPanelDesign, stratifiedDifference } from '../../stats/design-consistent';
import { studentTInv, studentTSf } from '../../stats/distributions';
import { covariateLabel } from '../../kpis/kpi-catalogue';
import { fewClusterInference, FewClusterInferenceResult, FewClusterMethod } from '../../stats/few-cluster-inference';
import { fewClusterDiagnostics, FewClusterDiagnostics, fragility, FragilityResult } from '../../stats/few-cluster-diagnostics';
import { hcCovariance, olsFit } from '../../stats/linear-model';
import { pairedTTest } from '../../stats/paired';
import { randomizationTest } from '../../stats/randomization-inference';
import { randomizationTTest, RandomizationTResult } from '../../stats/randomization-t';
import { welchTTest } from '../../stats/welch';

/** Largest number of territories for the few-cluster panel methods and the randomization-t CI. */
export const FEW_CLUSTER_MAX_TERRITORIES = 200;

/** What a row is for. */
export type DesignAnalysisRole = 'design_consistent' | 'robustness' | 'naive_comparison';

/** One analysis of the KPI, every number from the method named. */
export interface DesignAnalysisRow {
  key: string;
  /** plain-language method name */
  label: string;
  role: DesignAnalysisRole;
  estimate: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  note: string | null;
}

/** Result of `designAnalyses`. */
export interface DesignAnalysesResult {
  design_type: string;
  conf_level: number;
  rows: DesignAnalysisRow[];
  /** the panel DiD with every few-cluster method (null without a weekly panel or above the size cap) */
  panel: (FewClusterInferenceResult & { fixed_effects: 'none' | 'pair' | 'stratum'; unit: string; deciding_reason?: string }) | null;
  /**
   * Territory diagnostics of the territory-level comparison (every KPI): each territory its own
   * cluster in y ~ 1 + T (+ centred pre-period KPI and its interaction when available): leverage,
   * partial leverage of the treatment effect, leave-one-territory-out estimates, effective number
   * of territories, and the full-sample estimate of that regression (what the leave-one-out
   * estimates move away from). Null when fewer than 4 territories have a value.
   */
  territory_diagnostics: (FewClusterDiagnostics & { model: string; estimate: number }) | null;
  /** over the design-consistent and robustness rows and the panel methods (naive rows excluded) */
  fragility: FragilityResult;
}

/** Inputs, one entry per assigned territory (as compareKpi's units). */
export interface DesignAnalysesInput {
  designType: string;
  values: readonly (number | null)[];
  arms: readonly string[];
  strata: readonly string[];
  treatmentArm: string;
  controlArm: string;
  design?: RandomizationDesign;
  /** balancing covariates per territory (rerandomization), rows aligned with values */
  covariates?: readonly (readonly number[])[] | null;
  /** names of the balancing covariates, in column order (the label of the regression on them) */
  covariateNames?: readonly string[] | null;
  weekly?: readonly ({ pre: readonly number[]; test: readonly number[] } | null)[] | null;
  weeklyUnit?: string;
  /** the KPI over the pre-period per territory (null = undefined), for the territory diagnostics */
  pre?: readonly (number | null)[] | null;
  /** territory codes (for the diagnostics' rows); default 'territory i' */
  codes?: readonly string[];
  alpha: number;
  seed: number;
  draws: number;
  /** the few-cluster method that decides the panel (the locked plan's few_cluster_method; default the wild cluster bootstrap) */
  fewClusterMethod?: FewClusterMethod;
  /** why that method decides (report-inputs.ts: locked, or chosen after calibration at this size); stored on the panel */
  fewClusterReason?: string;
  maxExact: number;
}

function row(key: string, label: string, role: DesignAnalysisRole, r: { estimate: number | null; ci_low: number | null; ci_high: number | null; p_value: number | null }, note: string | null = null): DesignAnalysisRow {
  return { key, label, role, estimate: r.estimate, ci_low: r.ci_low, ci_high: r.ci_high, p_value: r.p_value, note };
}

function rtRow(key: string, label: string, r: RandomizationTResult): DesignAnalysisRow {
  const how = r.enumeration ? `all ${r.reference_size} assignments of the design` : `${r.reference_size - 1} draws from the design`;
  return row(key, label, 'design_consistent', r, r.status === 'ok' ? `${how}${r.note ? `; ${r.note}` : ''}` : r.note);
}

/** Lin's regression on several centred covariates, HC2 SE, n − k df. */
function linMulti(y: number[], tr: number[], cov: number[][], alpha: number, names: readonly string[] | null): { estimate: number | null; ci_low: number | null; ci_high: number | null; p_value: number | null; note: string } {
  const none = { estimate: null, ci_low: null, ci_high: null, p_value: null };
  const q = cov[0]?.length ?? 0;
  const n = y.length;
  const k = 2 + 2 * q;
  if (n <= k + 1) return { ...none, note: `too few territories (${n}) for ${k} regression columns` };
  const means = Array.from({ length: q }, (_, a) => cov.reduce((s, r) => s + r[a], 0) / n);
  const x = cov.map((r, i) => {
    const xc = r.map((v, a) => v - means[a]);
    return [1, tr[i], ...xc, ...xc.map((v) => tr[i] * v)];
  });
  try {
    const fit = olsFit(x, y);
    const v = hcCovariance(fit, 'HC2');
    if (!v || !(v[1][1] > 0)) return { ...none, note: 'the HC2 variance is undefined for these data' };
    const se = Math.sqrt(v[1][1]);
    const est = fit.coef[1];
    const df = n - k;
    const qt = studentTInv(1 - alpha / 2, df);
    const which = names && names.length === q ? ` (${names.map(covariateLabel).join(', ')})` : '';
    return {
      estimate: est,
      ci_low: est - qt * se,
      ci_high: est + qt * se,
      p_value: Math.min(1, 2 * studentTSf(Math.abs(est / se), df)),
      note:
        `adjusts for the ${q} covariates the rerandomization balanced${which}, not for the pre-period KPI: ` +
        `${k} regression columns (intercept, treatment, each centred covariate and its interaction), HC2, df = n − k = ${n} − ${k} = ${df}`,
    };
  } catch {
    return { ...none, note: 'the balancing covariates are collinear among the compared territories' };
  }
}

/** The territory-level design-consistent rows and the naive Welch row. */
function territoryRows(input: DesignAnalysesInput): DesignAnalysisRow[] {
  const { values, arms, treatmentArm: T, controlArm: C, alpha, designType } = input;
  const idx = values.map((v, i) => (v !== null && (arms[i] === T || arms[i] === C) ? i : -1)).filter((i) => i >= 0);
  const t = idx.filter((i) => arms[i] === T).map((i) => values[i] as number);
  const c = idx.filter((i) => arms[i] === C).map((i) => values[i] as number);
  const w = welchTTest(t, c, { alpha });
  const welchR = { estimate: w.diff, ci_low: w.ci_low, ci_high: w.ci_high, p_value: w.p_two_sided };
  const naive = designType === 'matched_pairs' || designType === 'rerandomization';
  const rows: DesignAnalysisRow[] = [
    row(
      naive ? 'welch_naive' : 'welch',
      naive ? 'Welch t (naive: ignores the design)' : 'Welch t',
      naive ? 'naive_comparison' : 'design_consistent',
      welchR,
      naive ? `treats the territories as if completely randomized; the ${designType === 'matched_pairs' ? 'pairing' : 'rerandomization'} makes it conservative, so it never decides` : null,
    ),
  ];
  const small = values.length <= FEW_CLUSTER_MAX_TERRITORIES;
  const rtBase = { values, arms, treatmentArm: T, controlArm: C, alpha, seed: input.seed, draws: input.draws, maxExact: input.maxExact, ci: small };
  if (designType === 'matched_pairs') {
    const byPair = new Map<string, { t: number | null; c: number | null }>();
    values.forEach((v, i) => {
      if (arms[i] !== T && arms[i] !== C) return;
      const e = byPair.get(input.strata[i]) ?? { t: null, c: null };
      if (arms[i] === T) e.t = v;
      else e.c = v;
      byPair.set(input.strata[i], e);
    });
    const pairs = [...byPair.values()].filter((e) => e.t !== null && e.c !== null);
    const pt = pairedTTest(pairs.map((p) => p.t!), pairs.map((p) => p.c!), { alpha });
    rows.push(row('paired_t', 'paired t on pair differences', 'design_consistent', { estimate: pt.mean_diff, ci_low: pt.ci_low, ci_high: pt.ci_high, p_value: pt.p_two_sided }, `${pairs.length} complete pairs`));
  }
  if (designType === 'stratified') {
    const sd = stratifiedDifference(values, arms, input.strata, T, C, alpha);
    rows.push(row('stratified_difference', 'stratum-weighted difference (Neyman SE, Satterthwaite df)', 'design_consistent', sd, sd.note ?? `${sd.strata.length} strata`));
    if (input.design) {
      const ri = randomizationTest({ values, arms, treatmentArm: T, controlArm: C, design: input.design, statistic: 'stratified_weighted', ci: { alpha }, seed: input.seed, draws: input.draws, maxExact: input.maxExact });
      rows.push(row('randomization_stratified', 'randomization inference, stratum-weighted difference', 'design_consistent', { estimate: ri.observed, ci_low: ri.ci?.low ?? null, ci_high: ri.ci?.high ?? null, p_value: ri.p_two_sided }, ri.ci?.note ?? null));
    }
  }
  if (designType === 'rerandomization' && input.covariates) {
    const cov = idx.map((i) => [...input.covariates![i]]);
    const lin = linMulti(idx.map((i) => values[i] as number), idx.map((i) => (arms[i] === T ? 1 : 0)), cov, alpha, input.covariateNames ?? null);
    rows.push(row('lin_balancing_covariates', "Lin's regression adjustment on the balancing covariates (HC2)", 'design_consistent', lin, lin.note));
  }
  if (input.design && (designType !== 'rerandomization' || input.covariates) && (small || designType !== 'rerandomization')) {
    const r = randomizationTTest({ ...rtBase, design: input.design, covariates: input.covariates ?? undefined });
    const labels: Record<string, string> = {
      welch_t: 'studentized randomization test (Welch t re-drawn from the design)',
      stratified_t: 'studentized randomization test (stratified t re-drawn within strata)',
      paired_t: 'studentized randomization test (paired t, sign flips of the pairs)',
      lin_hc2_t: 'studentized randomization test of the Lin regression, under the acceptance rule',
    };
    rows.push(rtRow('randomization_t', labels[r.statistic], r));
  }
  return rows;
}

/** The panel DiD with fixed effects for the design's blocks and every few-cluster method. */
function panelAnalysis(input: DesignAnalysesInput): DesignAnalysesResult['panel'] {
  const { weekly, arms, treatmentArm: T, controlArm: C } = input;
  if (!weekly) return null;
  const territory: string[] = [];
  const treated: (0 | 1)[] = [];
  const post: (0 | 1)[] = [];
  const block: string[] = [];
  const y: number[] = [];
  weekly.forEach((w, i) => {
    if (!w || (arms[i] !== T && arms[i] !== C)) return;
    const push = (vals: readonly number[], p: 0 | 1) =>
      vals.forEach((v) => {
        territory.push(input.codes?.[i] ?? `u${i}`); // the territory's code names its cluster in the diagnostics
        treated.push(arms[i] === T ? 1 : 0);
        post.push(p);
        block.push(input.strata[i]);
        y.push(v);
      });
    push(w.pre, 0);
    push(w.test, 1);
  });
  const G = new Set(territory).size;
  if (G < 4 || G > FEW_CLUSTER_MAX_TERRITORIES || !post.includes(0) || !post.includes(1)) return null;
  const fixed: 'none' | 'pair' | 'stratum' = input.designType === 'matched_pairs' ? 'pair' : input.designType === 'stratified' ? 'stratum' : 'none';
  const { x, coefficient } = didPanelDesign(treated, post, fixed === 'none' ? undefined : block);
  try {
    const r = fewClusterInference({ x, y, clusters: territory, coefficient }, { alpha: input.alpha, seed: input.seed, draws: input.draws, deciding: input.fewClusterMethod });
    return { ...r, fixed_effects: fixed, unit: input.weeklyUnit ?? 'per territory-week', ...(input.fewClusterReason ? { deciding_reason: input.fewClusterReason } : {}) };
  } catch {
    return null; // collinear design (e.g. every block entirely in one arm): the existing panel block reports it
  }
}

/** Leverage and leave-one-out diagnostics of the territory-level regression (see DesignAnalysesResult). */
function territoryDiagnostics(input: DesignAnalysesInput): DesignAnalysesResult['territory_diagnostics'] {
  const { values, arms, treatmentArm: T, controlArm: C } = input;
  const pre = input.pre ?? null;
  const usePre = pre !== null && values.some((v, i) => v !== null && pre[i] !== null && (arms[i] === T || arms[i] === C));
  const idx = values.map((v, i) => (v !== null && (arms[i] === T || arms[i] === C) && (!usePre || pre![i] !== null) ? i : -1)).filter((i) => i >= 0);
  const nT = idx.filter((i) => arms[i] === T).length;
  if (idx.length < 4 || nT < 2 || idx.length - nT < 2) return null;
  const mx = usePre ? idx.reduce((s, i) => s + (pre![i] as number), 0) / idx.length : 0;
  const x = idx.map((i) => {
    const tr = arms[i] === T ? 1 : 0;
    if (!usePre) return [1, tr];
    const xc = (pre![i] as number) - mx;
    return [1, tr, xc, tr * xc];
  });
  try {
    const fit = olsFit(x, idx.map((i) => values[i] as number));
    const d = fewClusterDiagnostics(fit, idx.map((i) => input.codes?.[i] ?? `territory ${i + 1}`), 1);
    const model = usePre
      ? `the KPI on treatment, the centred pre-period KPI and their interaction (Lin's regression on the pre-period KPI alone, not on the design's balancing covariates: 4 regression columns, df = n − k = ${idx.length} − 4 = ${idx.length - 4}), one territory per cluster`
      : 'the KPI on treatment (difference in means), one territory per cluster';
    return { ...d, estimate: fit.coef[1], model };
  } catch {
    return null; // a constant pre-period KPI makes the interacted design collinear
  }
}

/**
 * The design-consistent analyses of one KPI (see the file header).
 * @param input territories, arms, strata (pair ids for matched pairs), the stored design, optional
 *   balancing covariates and weekly panel, level and randomization budget
 * @throws RangeError on inconsistent input lengths (from the stats functions)
 */
export function designAnalyses(input: DesignAnalysesInput): DesignAnalysesResult {
  const rows = territoryRows(input);
  const panel = panelAnalysis(input);
  const offered = [
    ...rows.filter((r) => r.role !== 'naive_comparison').map((r) => ({ method: r.label, p_value: r.p_value })),
    ...(panel ? panel.methods.map((m) => ({ method: `panel DiD: ${m.label}`, p_value: m.p_value })) : []),
  ];
  return { design_type: input.designType, conf_level: 1 - input.alpha, rows, panel, territory_diagnostics: territoryDiagnostics(input), fragility: fragility(offered, input.alpha) };
}
