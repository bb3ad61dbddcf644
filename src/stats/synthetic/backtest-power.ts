/**
 * Power of a planned few-treated pilot (issue 12, "Power for a planned pilot of this kind"): the
 * minimum detectable effect (MDE) from placebo backtests in time on the pilot's own history.
 *
 * Idea: GeoLift's power analysis (Meta, facebookincubator/GeoLift, `GeoLiftPower` /
 * `GeoLiftMarketSelection`): run the estimator of the real analysis on past windows where no
 * treatment happened, with the real treated set against the donors; the spread of those estimates is
 * the noise an effect has to beat. Each backtest window is a pseudo pre-period (the pilot's length)
 * followed by a pseudo test period of L weeks; SDID (synthdid.ts) estimates the "effect" of nothing.
 *
 * Formula (normal approximation of a two-sided level-α test with power π, the same form as the
 * analytic MDE of power-plan.ts and of GeoLift's "detectable effect" reading of its simulations):
 *
 *   bias = mean_b(τ̂_b),  sd = sd_b(τ̂_b) (n − 1),  MDE_abs = (z_{1−α/2} + z_π) · sd,
 *   baseline = mean_b(mean of the treated block over the pseudo test weeks),  MDE_rel = MDE_abs / baseline.
 *
 * The backtests slide by whole weeks, so consecutive windows overlap and are correlated: the number of
 * windows is not a number of independent draws (it is reported, and fewer than `minWindows` gives no MDE).
 * The bias is reported beside the MDE, never folded into it: a bias of the size of sd means the
 * estimator drifts on this history and the MDE is optimistic.
 */
import { normalInv } from '../distributions';
import { buildPanelMatrix, FewTreatedInputError, FewTreatedPanel } from './few-treated';
import { fitSynth, SynthEstimator } from './synthdid';

/** Fewest backtest windows that give an MDE (below it the length is skipped with the reason). */
export const MIN_BACKTEST_WINDOWS = 5;

/** One backtest window: the long panel of its pseudo pre-period (weeks 0…pre_weeks−1) and pseudo test period; NaN = no data. */
export interface BacktestWindow {
  /** first and last day of the pseudo test period (ISO dates, for the record) */
  test_start: string;
  test_end: string;
  pre_weeks: number;
  panel: FewTreatedPanel;
}

/** The backtests of one candidate test length. */
export interface BacktestLength {
  weeks: number;
  windows: BacktestWindow[];
  /** why no window could be built at all (e.g. history too short); shown as a skip reason */
  unavailable?: string | null;
}

/** Result for one candidate test length. */
export interface BacktestPowerRow {
  weeks: number;
  status: 'ok' | 'skipped';
  /** windows whose backtest produced an estimate */
  windows: number;
  /** windows offered */
  windows_offered: number;
  /** (z_{1−α/2} + z_π) · sd, KPI units per treated territory-week; null when skipped */
  mde_absolute: number | null;
  /** MDE_abs / baseline (0.1 = +10%); null when skipped or the baseline is ≤ 0 */
  mde_relative: number | null;
  /** mean weekly KPI of the treated territories over the pseudo test weeks, averaged over the windows */
  baseline: number | null;
  /** mean backtest estimate (the estimator's drift on no effect) */
  bias: number | null;
  /** bias / sd (null without sd) */
  bias_ratio: number | null;
  /** sample SD of the backtest estimates */
  sd: number | null;
  /** sqrt(mean τ̂_b²): the error including the bias */
  rmse: number | null;
  /** fewest and most donors used by a window */
  donors: [number, number] | null;
  /** each window's estimate, newest first */
  estimates: { test_start: string; test_end: string; estimate: number }[];
  /** why windows (or the whole length) were skipped: each distinct reason with its count, most frequent first */
  skip_reasons: { reason: string; count: number }[];
}

/** Result of `backtestPower`. */
export interface BacktestPowerResult {
  estimator: SynthEstimator;
  alpha: number;
  power: number;
  /** z_{1−α/2} + z_π */
  multiplier: number;
  formula: string;
  treated: string[];
  lengths: BacktestPowerRow[];
}

/**
 * MDE per candidate test length from placebo backtests (see the module doc for the formula).
 *
 * @param input lengths with their windows (long panels, NaN where a territory has no data: such a
 *   donor is dropped from that window, such a treated territory skips the window); treated codes;
 *   alpha (two-sided) and power in (0, 1); estimator (default 'sdid', the one that decides a chosen
 *   pilot); minWindows (default MIN_BACKTEST_WINDOWS)
 * @returns one row per length, in the order given; skipped rows carry their skip reasons
 * @throws RangeError for alpha or power outside (0, 1) or no treated territory
 */
export function backtestPower(input: {
  lengths: readonly BacktestLength[];
  treated: readonly string[];
  alpha: number;
  power: number;
  estimator?: SynthEstimator;
  minWindows?: number;
}): BacktestPowerResult {
  const { alpha, power } = input;
  if (!(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) throw new RangeError('alpha and power must lie in (0, 1)');
  if (input.treated.length === 0) throw new RangeError('no treated territory');
  const estimator = input.estimator ?? 'sdid';
  const minWindows = input.minWindows ?? MIN_BACKTEST_WINDOWS;
  const multiplier = normalInv(1 - alpha / 2) + normalInv(power);
  const lengths = input.lengths.map((l) => lengthRow(l, input.treated, estimator, multiplier, minWindows));
  return {
    estimator,
    alpha,
    power,
    multiplier,
    formula: 'MDE = (z_{1−α/2} + z_power) · sd of the placebo backtest estimates; relative to the treated territories’ mean weekly KPI in the backtest test weeks',
    treated: [...input.treated],
    lengths,
  };
}

function lengthRow(l: BacktestLength, treated: readonly string[], estimator: SynthEstimator, multiplier: number, minWindows: number): BacktestPowerRow {
  const reasons = new Map<string, number>();
  const skip = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  if (l.unavailable) skip(l.unavailable);
  const estimates: BacktestPowerRow['estimates'] = [];
  const baselines: number[] = [];
  let minD = Infinity;
  let maxD = -Infinity;
  for (const w of l.windows) {
    let built: ReturnType<typeof buildPanelMatrix>;
    try {
      built = buildPanelMatrix(w.panel, treated, w.pre_weeks);
    } catch (err) {
      if (!(err instanceof FewTreatedInputError)) throw err;
      skip(err.code === 'TREATED_MISSING_WEEKS' ? 'a treated territory has no data in some weeks of the window' : `${err.code}: ${err.message}`);
      continue;
    }
    const p = built.matrix;
    const n1 = p.n - p.n0;
    if (p.n0 <= n1) {
      skip(`too few donors with data over the whole window (${p.n0} for ${n1} treated)`);
      continue;
    }
    const fit = fitSynth(p, estimator);
    if (!Number.isFinite(fit.estimate)) {
      skip('the estimator gave no finite estimate (constant panel?)');
      continue;
    }
    estimates.push({ test_start: w.test_start, test_end: w.test_end, estimate: fit.estimate });
    let b = 0;
    for (let i = p.n0; i < p.n; i++) for (let c = p.t0; c < p.t; c++) b += p.y[i * p.t + c];
    baselines.push(b / (n1 * (p.t - p.t0)));
    minD = Math.min(minD, p.n0);
    maxD = Math.max(maxD, p.n0);
  }
  const base: BacktestPowerRow = {
    weeks: l.weeks,
    status: 'skipped',
    windows: estimates.length,
    windows_offered: l.windows.length,
    mde_absolute: null,
    mde_relative: null,
    baseline: null,
    bias: null,
    bias_ratio: null,
    sd: null,
    rmse: null,
    donors: estimates.length ? [minD, maxD] : null,
    estimates,
    skip_reasons: [],
  };
  if (estimates.length < minWindows) {
    skip(`${estimates.length} backtest window(s) with an estimate, at least ${minWindows} are needed for an MDE`);
    return { ...base, skip_reasons: sortedReasons(reasons) };
  }
  const e = estimates.map((x) => x.estimate);
  const mean = e.reduce((s, v) => s + v, 0) / e.length;
  const sd = Math.sqrt(e.reduce((s, v) => s + (v - mean) ** 2, 0) / (e.length - 1));
  const rmse = Math.sqrt(e.reduce((s, v) => s + v * v, 0) / e.length);
  const baseline = baselines.reduce((s, v) => s + v, 0) / baselines.length;
  const mde = multiplier * sd;
  if (!(baseline > 0)) skip('the treated territories’ baseline level is not positive: no relative MDE');
  return {
    ...base,
    status: 'ok',
    mde_absolute: mde,
    mde_relative: baseline > 0 ? mde / baseline : null,
    baseline,
    bias: mean,
    bias_ratio: sd > 0 ? mean / sd : null,
    sd,
    rmse,
    skip_reasons: sortedReasons(reasons),
  };
}

function sortedReasons(reasons: Map<string, number>): { reason: string; count: number }[] {
  return [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}
