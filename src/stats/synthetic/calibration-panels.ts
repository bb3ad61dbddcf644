/**
 * Pure helpers of the few-treated placebo calibration bench (`npm run bench:calibration -- --few-treated`,
 * bench/few-treated-calibration.ts, issue 12): the CRM territory × week panel, a simulated
 * heavy-tailed factor panel, the planted lift and the counting of false positives and coverage.
 * See docs/statistics.md, "Calibration of the few-treated tests".
 */
import type { Prng } from '../design/prng';
import type { FewTreatedPanel } from './few-treated';

/** One opportunity of a territory, as the bench needs it (ISO dates, amount in currency). */
export interface CohortDeal {
  engage_date: string | null;
  close_date: string | null;
  won: boolean;
  amount: number | null;
}

/**
 * Weekly revenue won by the rollups' cohort convention (docs/kpis.md): week w of a window holds the
 * close amounts of the deals engaged in that week (7 days from the window start + 7·w) and closed
 * Won by the end of their window (pre-period cohorts by the pre-period's end, test-period cohorts by
 * the test period's end). Every territory gets every week (0 when nothing was won).
 *
 * @param deals territory id → its deals
 * @param preStart first day of the pre-period (ISO date); the test period follows it directly
 * @param preWeeks weeks in the pre-period (≥ 1); @param testWeeks weeks in the test period (≥ 1)
 * @returns long panel with week indices 0 … preWeeks + testWeeks − 1, territories in sorted order
 */
export function weeklyCohortRevenuePanel(
  deals: ReadonlyMap<string, readonly CohortDeal[]>,
  preStart: string,
  preWeeks: number,
  testWeeks: number,
): FewTreatedPanel {
  const preEnd = addDays(preStart, 7 * preWeeks - 1);
  const testEnd = addDays(preStart, 7 * (preWeeks + testWeeks) - 1);
  const unit: string[] = [];
  const week: number[] = [];
  const value: number[] = [];
  for (const id of [...deals.keys()].sort()) {
    const sums = new Array<number>(preWeeks + testWeeks).fill(0);
    for (const d of deals.get(id) ?? []) {
      if (!d.won || d.engage_date === null || d.close_date === null || d.amount === null) continue;
      if (d.engage_date < preStart || d.engage_date > testEnd) continue;
      const w = Math.floor((Date.parse(`${d.engage_date}T00:00:00Z`) - Date.parse(`${preStart}T00:00:00Z`)) / (7 * 86_400_000));
      const windowEnd = w < preWeeks ? preEnd : testEnd;
      if (d.close_date <= windowEnd) sums[w] += d.amount;
    }
    sums.forEach((v, w) => {
      unit.push(id);
      week.push(w);
      value.push(v);
    });
  }
  return { unit, week, value };
}

/** Settings of `simulateFactorPanel`. */
export interface SimulatedPanelOptions {
  units: number;
  weeks: number;
  /** latent factors (default 2) */
  factors?: number;
  /** degrees of freedom of the Student-t noise (default 3: heavy tails, finite variance) */
  df?: number;
  /** SD of log territory size (default 1: sizes spread over about e^±2) */
  sizeSd?: number;
  /** noise SD relative to the territory's level (default 0.15) */
  noise?: number;
}

function gauss(rng: Prng): number {
  // Box–Muller
  return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
}

function studentT(rng: Prng, df: number): number {
  let chi = 0;
  for (let i = 0; i < df; i++) chi += gauss(rng) ** 2;
  return gauss(rng) / Math.sqrt(chi / df);
}

/**
 * A simulated territory × week KPI panel with no treatment effect: unequal territory sizes
 * s_i = exp(sizeSd · z_i) · 100, an interactive fixed-effects (factor) structure and heavy-tailed
 * noise scaled to the size,
 *   y_it = s_i · (1 + Σ_f ℓ_if · F_ft) + s_i · noise · t_df,it / sd(t_df),
 * with factors F_ft AR(1) (ρ = 0.7, innovations N(0, 0.1²)), loadings ℓ_i1 ~ N(1, 0.5²) (a common
 * trend of unequal strength) and ℓ_if ~ N(0, 1) for f > 1 (territory-specific). Student-t noise
 * is drawn as N(0,1)/sqrt(χ²_df/df) (df must be an integer). Units are named u00, u01, ….
 *
 * @returns long panel (weeks 0 … weeks − 1)
 */
export function simulateFactorPanel(rng: Prng, options: SimulatedPanelOptions): FewTreatedPanel {
  const { units, weeks } = options;
  const nf = options.factors ?? 2;
  const df = options.df ?? 3;
  const sizeSd = options.sizeSd ?? 1;
  const noise = options.noise ?? 0.15;
  const tSd = df > 2 ? Math.sqrt(df / (df - 2)) : 1;
  const f: number[][] = [];
  for (let k = 0; k < nf; k++) {
    const row: number[] = [];
    let prev = 0;
    for (let t = 0; t < weeks; t++) {
      prev = 0.7 * prev + 0.1 * gauss(rng);
      row.push(prev);
    }
    f.push(row);
  }
  const unit: string[] = [];
  const week: number[] = [];
  const value: number[] = [];
  const width = String(units - 1).length;
  for (let i = 0; i < units; i++) {
    const size = 100 * Math.exp(sizeSd * gauss(rng));
    const load = Array.from({ length: nf }, (_, k) => (k === 0 ? 1 + 0.5 * gauss(rng) : gauss(rng)));
    const id = `u${String(i).padStart(width, '0')}`;
    for (let t = 0; t < weeks; t++) {
      let common = 1;
      for (let k = 0; k < nf; k++) common += load[k] * f[k][t];
      unit.push(id);
      week.push(t);
      value.push(size * common + size * noise * (studentT(rng, df) / tSd));
    }
  }
  return { unit, week, value };
}

/**
 * Plants a multiplicative lift on the treated territories' test-period weeks (value × (1 + lift)).
 *
 * @returns the new panel and the true effect on the treated block as the estimators define it: the
 *   mean over treated territories and test weeks of lift × value (KPI units per territory-week)
 * @throws RangeError when no treated test-period cell exists
 */
export function plantLift(
  panel: FewTreatedPanel,
  treated: readonly string[],
  preWeeks: number,
  lift: number,
): { panel: FewTreatedPanel; trueEffect: number } {
  const set = new Set(treated);
  let sum = 0;
  let cells = 0;
  const value = panel.value.map((v, r) => {
    if (!set.has(panel.unit[r]) || panel.week[r] < preWeeks) return v;
    sum += lift * v;
    cells++;
    return v * (1 + lift);
  });
  if (cells === 0) throw new RangeError('no treated test-period cell to plant a lift on');
  return { panel: { unit: panel.unit, week: panel.week, value }, trueEffect: sum / cells };
}

/** ISO date + days (UTC calendar; stats/ stays free of other src/ folders). */
function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Counts of one calibration cell (panel × k × test). */
export interface CalibrationTally {
  /** placebo pilots without effect */
  n: number;
  /** of those, rejections at α */
  rejections: number;
  /** pilots with the planted lift whose CI was evaluated */
  nPlanted: number;
  /** of those, CIs containing the true effect */
  covered: number;
}

/** An empty tally. */
export function emptyTally(): CalibrationTally {
  return { n: 0, rejections: 0, nPlanted: 0, covered: 0 };
}

/**
 * Adds a null pilot's p-value (rejection when p < alpha; a null/NaN p counts as no rejection but is
 * counted in n, so an undefined test is not flattered).
 */
export function countNull(t: CalibrationTally, p: number | null, alpha: number): void {
  t.n++;
  if (p !== null && Number.isFinite(p) && p < alpha) t.rejections++;
}

/** Adds a planted pilot's CI (a null CI counts as not covering). */
export function countCoverage(t: CalibrationTally, ci: readonly [number, number] | null, trueEffect: number): void {
  t.nPlanted++;
  if (ci !== null && ci[0] <= trueEffect && trueEffect <= ci[1]) t.covered++;
}

/**
 * Monte Carlo standard error of an observed rate x/n, sqrt(r(1 − r)/n) with r = x/n (NaN when n = 0).
 */
export function monteCarloSe(x: number, n: number): number {
  if (n <= 0) return NaN;
  const r = x / n;
  return Math.sqrt((r * (1 - r)) / n);
}

/**
 * The bench's line for one cell, e.g.
 * `few-treated panel=crm k=2 method=sdid fpr=5.1% coverage=94.8% (n=1000, MC SE fpr 0.7 pp, coverage 0.7 pp) PASS`.
 * Coverage is `n/a` for a test without a CI (nPlanted = 0). PASS when fpr ∈ fprRange and coverage
 * (when defined) ∈ coverageRange (inclusive), else MISS; a test the product does not offer as a
 * decision test (`notOffered` = the reason) ends `NOT OFFERED: reason` and is neither (pass = null).
 * MC SE = `monteCarloSe` of each rate, in percentage points.
 */
export function calibrationLine(
  panel: string,
  k: number,
  method: string,
  t: CalibrationTally,
  fprRange: readonly [number, number],
  coverageRange: readonly [number, number],
  notOffered: string | null = null,
): { line: string; pass: boolean | null } {
  const fpr = t.n ? t.rejections / t.n : NaN;
  const cov = t.nPlanted ? t.covered / t.nPlanted : null;
  const fprOk = fpr >= fprRange[0] && fpr <= fprRange[1];
  const covOk = cov === null || (cov >= coverageRange[0] && cov <= coverageRange[1]);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pp = (x: number) => `${(100 * x).toFixed(1)} pp`;
  const se = `MC SE fpr ${pp(monteCarloSe(t.rejections, t.n))}${cov === null ? '' : `, coverage ${pp(monteCarloSe(t.covered, t.nPlanted))}`}`;
  const pass = notOffered === null ? fprOk && covOk : null;
  const verdict = notOffered === null ? (pass ? 'PASS' : 'MISS') : `NOT OFFERED: ${notOffered}`;
  const line = `few-treated panel=${panel} k=${k} method=${method} fpr=${pct(fpr)} coverage=${cov === null ? 'n/a' : pct(cov)} (n=${t.n}, ${se}) ${verdict}`;
  return { line, pass };
}
