/**
 * Group-sequential boundaries with the Lan–DeMets O'Brien–Fleming-type alpha-spending function.
 *
 * Model: at information fractions 0 < t_1 < … < t_K ≤ 1 the standardized statistics are
 * Z_k = B(t_k)/√t_k with B a standard Brownian motion under H0 (corr(Z_j, Z_k) = √(t_j/t_k)).
 * A two-sided symmetric design rejects at the first look k with |Z_k| ≥ c_k, where c_1 solves
 * P(|Z_1| ≥ c_1) = α(t_1) and c_k solves P(|Z_j| < c_j for j < k, |Z_k| ≥ c_k) = α(t_k) − α(t_{k−1}).
 *
 * Spending (the STANDARD convention of rpact `typeOfDesign = 'asOF'`, gsDesign `sfLDOF` with
 * alpha/2 per side, ldbounds, and the DeMets–Lan tables): each side spends α/2 with
 * f(t) = 2 − 2Φ(Φ⁻¹(1 − α/4)/√t), so the two-sided spend is α(t) = 2f(t) = 4Φ(−Φ⁻¹(1 − α/4)/√t)
 * and α(1) = α. The variant 'total_alpha' plugs the total α into the formula,
 * α(t) = 2 − 2Φ(Φ⁻¹(1 − α/2)/√t) (Lan & DeMets 1983 as written with z_{α/2}); it is less
 * conservative early. Both tails are computed as Φ(−x), never 1 − Φ(x): early spends are ~1e-12.
 *
 * Numerics (Jennison & Turnbull 2000, ch. 19; Armitage, McPherson & Rowe 1969): the sub-density of
 * the score S_k = B(t_k) on the continuation region (−c_k√t_k, c_k√t_k) is carried from look to
 * look on a uniform grid and integrated with Simpson's rule; each c_k is found by bisection on the
 * crossing probability (monotone in c_k). With the default 2,001 grid points the boundaries agree
 * with the reference values (4,001-point Simpson, checked against rpact and mvtnorm) to < 1e-6 in z.
 *
 * Sources: Lan K.K.G., DeMets D.L. (1983) Discrete sequential boundaries for clinical trials,
 * Biometrika 70:659–663; O'Brien P.C., Fleming T.R. (1979) Biometrics 35:549–556; Jennison C.,
 * Turnbull B.W. (2000) Group Sequential Methods with Applications to Clinical Trials, §7.2, ch. 19.
 */
import { normalCdf, normalInv } from './distributions';

export type SpendingConvention = 'standard' | 'total_alpha';

/** One look of a two-sided group-sequential design. */
export interface SequentialLook {
  /** information fraction t_k in (0, 1] */
  information_fraction: number;
  /** |Z| boundary c_k on the z scale */
  z_boundary: number;
  /** the p-value threshold at this look, 2Φ(−c_k) */
  nominal_p_two_sided: number;
  /** α(t_k), two-sided */
  cumulative_alpha_spent: number;
  /** α(t_k) − α(t_{k−1}) */
  incremental_alpha: number;
}

/** Options of {@link obrienFlemingBoundaries}. */
export interface BoundaryOptions {
  /** spending convention, default 'standard' (see module doc) */
  spending?: SpendingConvention;
  /** odd number of Simpson grid points per look (default 2001) */
  gridPoints?: number;
}

/**
 * Two-sided Lan–DeMets O'Brien–Fleming spend α(t) (see module doc for the two conventions).
 * @param t information fraction in (0, 1]; @param alpha total two-sided level in (0, 1)
 */
export function obrienFlemingSpend(t: number, alpha: number, spending: SpendingConvention = 'standard'): number {
  if (!(t > 0 && t <= 1)) throw new RangeError(`information fraction must be in (0, 1], got ${t}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (spending === 'standard') {
    const z = -normalInv(alpha / 4); // Φ⁻¹(1 − α/4) without cancellation
    return 4 * normalCdf(-z / Math.sqrt(t));
  }
  const z = -normalInv(alpha / 2);
  return 2 * normalCdf(-z / Math.sqrt(t));
}

/**
 * Boundaries c_1..c_K for the given information fractions.
 *
 * @param informationFractions strictly increasing, each in (0, 1]; the last need not be 1 (a
 *   design can be evaluated part-way), and a final look at t = 1 spends exactly α in total
 * @param alpha total two-sided significance level in (0, 1)
 * @returns one {@link SequentialLook} per fraction
 * @throws RangeError for an empty list, a fraction outside (0, 1], non-increasing fractions, a bad
 *   alpha or an even / too small grid
 */
export function obrienFlemingBoundaries(informationFractions: readonly number[], alpha: number, options: BoundaryOptions = {}): SequentialLook[] {
  const spending = options.spending ?? 'standard';
  const n = options.gridPoints ?? 2001;
  if (!Number.isInteger(n) || n < 101 || n % 2 === 0) throw new RangeError(`gridPoints must be an odd integer ≥ 101, got ${n}`);
  if (!informationFractions.length) throw new RangeError('at least one information fraction is needed');
  informationFractions.forEach((t, i) => {
    if (!(t > 0 && t <= 1)) throw new RangeError(`information fraction ${i + 1} must be in (0, 1], got ${t}`);
    if (i > 0 && !(t > informationFractions[i - 1])) throw new RangeError('information fractions must be strictly increasing');
  });

  const looks: SequentialLook[] = [];
  // Sub-density of S_{k-1} on its continuation grid (values, grid start, step).
  let grid: { s: Float64Array; g: Float64Array; w: Float64Array } | null = null;
  let prevT = 0;
  let prevSpend = 0;
  for (const t of informationFractions) {
    const spend = obrienFlemingSpend(t, alpha, spending);
    const increment = spend - prevSpend;
    let c: number;
    if (grid === null) {
      c = -normalInv(spend / 2);
    } else {
      const sd = Math.sqrt(t - prevT);
      const sqrtT = Math.sqrt(t);
      const { s, g, w } = grid;
      // Crossing probability and its derivative in c (for Newton's method).
      const crossing = (cz: number): { p: number; dp: number } => {
        const b = cz * sqrtT;
        let p = 0;
        let dens = 0;
        for (let i = 0; i < s.length; i++) {
          const up = (s[i] - b) / sd;
          const down = (-b - s[i]) / sd;
          p += w[i] * g[i] * (normalCdf(up) + normalCdf(down));
          dens += w[i] * g[i] * (Math.exp(-0.5 * up * up) + Math.exp(-0.5 * down * down));
        }
        return { p, dp: (-sqrtT / sd / Math.sqrt(2 * Math.PI)) * dens };
      };
      c = solveDecreasing(crossing, increment, -normalInv(Math.min(increment, 1) / 2));
    }
    looks.push({
      information_fraction: t,
      z_boundary: c,
      nominal_p_two_sided: 2 * normalCdf(-c),
      cumulative_alpha_spent: spend,
      incremental_alpha: increment,
    });
    grid = nextDensity(grid, prevT, t, c * Math.sqrt(t), n);
    prevT = t;
    prevSpend = spend;
  }
  return looks;
}

/** The boundary at a new look of a design continued from the looks already taken ({@link continueSpending}). */
export interface ContinuedLook {
  /** the new look's information fraction as computed now (under the plan in force) */
  information_fraction: number;
  /** |Z| boundary; null when the look spends no alpha (information decreased: nothing can be rejected) */
  z_boundary: number | null;
  /** 2Φ(−c); null with the boundary */
  nominal_p_two_sided: number | null;
  /** α spent up to and including this look, two-sided: never below what the completed looks spent */
  cumulative_alpha_spent: number;
  /** α spent at this look (0 when information decreased) */
  incremental_alpha: number;
  /** true when the fraction does not exceed a completed look's (e.g. the test period was extended or a look moved earlier) */
  information_decreased: boolean;
  /** when information decreased: the completed look with the largest fraction (its index in `completed`, 0-based), else null */
  exceeded_by: { index: number; information_fraction: number } | null;
  /** the fractions the boundary model used: the completed looks that spent alpha, then this look if it spends */
  fractions_used: number[];
}

/**
 * The completed looks that spent alpha: each fraction that exceeds every earlier one. A completed
 * look that did not exceed an earlier one spent nothing (an infinite boundary), so it does not
 * constrain the continuation region and is left out of the boundary model.
 * @param completed the fractions of the looks taken, in the order taken
 * @returns the indices into `completed`, increasing in fraction
 */
export function spendingLooks(completed: readonly number[]): number[] {
  const out: number[] = [];
  completed.forEach((t, i) => {
    if (!(t > 0 && t <= 1)) throw new RangeError(`information fraction ${i + 1} must be in (0, 1], got ${t}`);
    if (!out.length || t > completed[out[out.length - 1]]) out.push(i);
  });
  return out;
}

/**
 * The boundary at a new look given the looks already taken. Alpha already spent stays spent: the
 * completed looks keep the information fraction stored when each was taken and the alpha it spent,
 * and the spending function continues from them. A new look at `t` above every completed fraction
 * spends α(t) − α(t_max) at the boundary computed with the completed looks (Lan & DeMets 1983: the
 * boundaries of looks already taken are never recomputed). A new look whose fraction does not exceed
 * a completed one's — an amendment extended the test period or moved a look earlier — would spend a
 * negative amount: it spends nothing (no boundary, no rejection possible), the cumulative spend stays
 * at α(t_max), and `information_decreased` says so; the next look that exceeds t_max spends again.
 * (Jennison & Turnbull 2000, §7.2: the error-spending function must be evaluated at non-decreasing
 * information levels.)
 *
 * @param completed information fractions of the completed looks, in the order taken, in (0, 1]
 * @param t the new look's fraction in (0, 1] (1 for the final analysis)
 * @param alpha total two-sided level in (0, 1)
 * @throws RangeError for a fraction outside (0, 1] or a bad alpha / grid
 */
export function continueSpending(completed: readonly number[], t: number, alpha: number, options: BoundaryOptions = {}): ContinuedLook {
  if (!(t > 0 && t <= 1)) throw new RangeError(`information fraction must be in (0, 1], got ${t}`);
  const spending = spendingLooks(completed);
  const history = spending.map((i) => completed[i]);
  const max = history.length ? history[history.length - 1] : 0;
  if (t > max) {
    const fractions = [...history, t];
    const here = obrienFlemingBoundaries(fractions, alpha, options)[history.length];
    return { ...here, information_decreased: false, exceeded_by: null, fractions_used: fractions };
  }
  const index = spending[spending.length - 1];
  return {
    information_fraction: t,
    z_boundary: null,
    nominal_p_two_sided: null,
    cumulative_alpha_spent: obrienFlemingSpend(max, alpha, options.spending ?? 'standard'),
    incremental_alpha: 0,
    information_decreased: true,
    exceeded_by: { index, information_fraction: completed[index] },
    fractions_used: history,
  };
}

/** Simpson weights for n (odd) points with step h. */
function simpsonWeights(n: number, h: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = ((i === 0 || i === n - 1 ? 1 : i % 2 === 1 ? 4 : 2) * h) / 3;
  return w;
}

/**
 * The sub-density of S_k = B(t) on (−b, b) given the previous one (null at the first look, where it
 * is the N(0, t) density).
 */
function nextDensity(
  prev: { s: Float64Array; g: Float64Array; w: Float64Array } | null,
  prevT: number,
  t: number,
  b: number,
  n: number,
): { s: Float64Array; g: Float64Array; w: Float64Array } {
  const h = (2 * b) / (n - 1);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = -b + i * h;
  const g = new Float64Array(n);
  const sd = Math.sqrt(t - prevT);
  const norm = 1 / (sd * Math.sqrt(2 * Math.PI));
  if (prev === null) {
    for (let i = 0; i < n; i++) g[i] = norm * Math.exp(-0.5 * (s[i] / sd) ** 2);
  } else {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < prev.s.length; j++) {
        const d = (s[i] - prev.s[j]) / sd;
        acc += prev.w[j] * prev.g[j] * Math.exp(-0.5 * d * d);
      }
      g[i] = norm * acc;
    }
  }
  return { s, g, w: simpsonWeights(n, h) };
}

/**
 * The root of f(c) = target for f decreasing in c on (0, 40]: Newton steps from `start`, kept
 * inside a bisection bracket, to 1e-12 in c.
 */
function solveDecreasing(f: (c: number) => { p: number; dp: number }, target: number, start: number): number {
  let lo = 0;
  let hi = 40;
  let c = Math.min(Math.max(start, 1e-6), hi);
  for (let i = 0; i < 200; i++) {
    const { p, dp } = f(c);
    const diff = p - target;
    if (diff > 0) lo = c;
    else hi = c;
    let next = dp < 0 ? c - diff / dp : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - c) < 1e-12 || hi - lo < 1e-12) return next;
    c = next;
  }
  return c;
}

/** A recommendation at an interim or final look. */
export type SequentialRecommendation = 'continue' | 'stop_for_efficacy' | 'stop_for_futility';

/**
 * Conditional power under the current trend (Lan, Simon & Halperin 1982): the probability that the
 * final statistic crosses the final boundary `cFinal` in the favourable direction, given Z_t = z at
 * information fraction t and a drift equal to its current estimate z/√t:
 * CP = Φ((z/√t − c_K)/√(1 − t)) for a favourable z > 0 (z is signed so that positive is favourable).
 * @returns a probability in [0, 1]; 1 or 0 at t = 1 depending on whether z ≥ c_K
 */
export function conditionalPowerCurrentTrend(z: number, t: number, cFinal: number): number {
  if (!(t > 0 && t <= 1)) throw new RangeError(`information fraction must be in (0, 1], got ${t}`);
  if (t === 1) return z >= cFinal ? 1 : 0;
  return normalCdf((z / Math.sqrt(t) - cFinal) / Math.sqrt(1 - t));
}
