/**
 * Estimators that follow the design (issue 14: "each design gets its design-consistent analyses"):
 *  - `stratifiedDifference`: the stratum-weighted difference in means of a stratified (blocked)
 *    design, τ̂ = Σ_s w_s (ȳ_Ts − ȳ_Cs), w_s = n_s/n (territories of the two compared arms with a
 *    value), with the Neyman variance V̂ = Σ_s w_s² (s²_Ts/n_Ts + s²_Cs/n_Cs) and a
 *    Welch–Satterthwaite df, df = V̂² / Σ_s Σ_arm (w_s² s²_as/n_as)²/(n_as − 1) (Imbens & Rubin 2015
 *    ch. 9; Satterthwaite 1946). Every stratum needs ≥ 2 territories with a value in each arm.
 *  - `didPanelDesign`: the design matrix of the panel DiD y_it = a + b1·treated + b2·post +
 *    b3·treated·post, with pair (or stratum) fixed effects when a block label is given per row:
 *    y_it = a_block + b1·treated + b2·post + b3·treated·post (one dummy per block except the first).
 * Reference values: test/fixtures/few-cluster/design-consistent.json (numpy; script beside it).
 */
import { studentTInv, studentTSf } from './distributions';
import type { Matrix } from './linear-model';
import { isZeroSe } from './zero-se';

/** Result of `stratifiedDifference`. */
export interface StratifiedDifferenceResult {
  method: 'stratified_difference_neyman';
  status: 'ok' | 'insufficient_data' | 'zero_variance';
  estimate: number | null;
  se: number | null;
  df: number | null;
  p_value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  strata: { stratum: string; weight: number; n_t: number; n_c: number; difference: number | null }[];
  note: string | null;
}

/**
 * Stratum-weighted difference in means with its Neyman SE and Satterthwaite df (see the header).
 * @param values KPI value per territory (null = missing); arms, strata one entry per territory
 * @param treatmentArm, controlArm the compared arms (other arms are ignored)
 * @param alpha CI level 1 − alpha
 * @throws RangeError on mismatched lengths, non-finite values or alpha outside (0, 1)
 */
export function stratifiedDifference(
  values: readonly (number | null)[],
  arms: readonly string[],
  strata: readonly string[],
  treatmentArm: string,
  controlArm: string,
  alpha = 0.05,
): StratifiedDifferenceResult {
  if (arms.length !== values.length || strata.length !== values.length) throw new RangeError('values, arms and strata must have the same length');
  if (values.some((v) => v !== null && !Number.isFinite(v))) throw new RangeError('values must be finite numbers or null');
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const by = new Map<string, { t: number[]; c: number[] }>();
  values.forEach((v, i) => {
    if (v === null || (arms[i] !== treatmentArm && arms[i] !== controlArm)) return;
    const e = by.get(strata[i]) ?? { t: [], c: [] };
    (arms[i] === treatmentArm ? e.t : e.c).push(v);
    by.set(strata[i], e);
  });
  const n = [...by.values()].reduce((s, e) => s + e.t.length + e.c.length, 0);
  const mv = (xs: number[]): [number, number] => {
    const m = xs.reduce((s, v) => s + v, 0) / xs.length;
    return [m, xs.length > 1 ? xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1) : NaN];
  };
  let est = 0;
  let variance = 0;
  let dfDen = 0;
  let short = false;
  const rows: StratifiedDifferenceResult['strata'] = [];
  for (const [stratum, e] of by) {
    const w = (e.t.length + e.c.length) / n;
    if (e.t.length < 2 || e.c.length < 2) {
      short = true;
      rows.push({ stratum, weight: w, n_t: e.t.length, n_c: e.c.length, difference: e.t.length && e.c.length ? mv(e.t)[0] - mv(e.c)[0] : null });
      continue;
    }
    const [mt, vt] = mv(e.t);
    const [mc, vc] = mv(e.c);
    est += w * (mt - mc);
    const at = (w * w * vt) / e.t.length;
    const ac = (w * w * vc) / e.c.length;
    variance += at + ac;
    dfDen += (at * at) / (e.t.length - 1) + (ac * ac) / (e.c.length - 1);
    rows.push({ stratum, weight: w, n_t: e.t.length, n_c: e.c.length, difference: mt - mc });
  }
  const empty = { method: 'stratified_difference_neyman' as const, estimate: null, se: null, df: null, p_value: null, ci_low: null, ci_high: null, strata: rows };
  if (short || rows.length === 0) return { ...empty, status: 'insufficient_data', note: 'every stratum needs at least two territories with a value in each arm for the stratified variance' };
  const se = Math.sqrt(variance);
  if (isZeroSe(se, est)) return { ...empty, estimate: est, status: 'zero_variance', note: 'no variation within the strata' };
  const df = (variance * variance) / dfDen;
  const q = studentTInv(1 - alpha / 2, df);
  return {
    ...empty,
    status: 'ok',
    estimate: est,
    se,
    df,
    p_value: Math.min(1, Math.max(Number.MIN_VALUE, 2 * studentTSf(Math.abs(est / se), df))),
    ci_low: est - q * se,
    ci_high: est + q * se,
    note: null,
  };
}

/**
 * Design matrix of the panel DiD, with block (pair or stratum) fixed effects when `block` is given.
 * Columns: [1, block dummies (all blocks but the first, in first-seen order)…, treated, post,
 * treated·post]; the DiD effect is the last column (index k − 1).
 * @param treated, post 0/1 per row; block optional block label per row
 * @throws RangeError on mismatched lengths
 */
export function didPanelDesign(treated: readonly (0 | 1)[], post: readonly (0 | 1)[], block?: readonly string[]): { x: Matrix; coefficient: number; columns: string[] } {
  const n = treated.length;
  if (post.length !== n || (block && block.length !== n)) throw new RangeError('treated, post and block must have the same length');
  const levels = block ? [...new Set(block)] : [];
  const dummies = levels.slice(1);
  const index = new Map(dummies.map((l, i) => [l, i]));
  const x = treated.map((tr, i) => {
    const row = [1, ...new Array<number>(dummies.length).fill(0), tr, post[i], tr * post[i]];
    const d = block ? index.get(block[i]) : undefined;
    if (d !== undefined) row[1 + d] = 1;
    return row;
  });
  const columns = ['intercept', ...dummies.map((l) => `block:${l}`), 'treated', 'post', 'treated×post'];
  return { x, coefficient: columns.length - 1, columns };
}
