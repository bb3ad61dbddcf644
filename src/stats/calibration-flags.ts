/**
 * Which design × method pairs failed calibration, and at which size (`npm run bench:calibration`):
 *  - the classic record (`--classic`, bench/calibration.ts): 1,000 placebo pilots per design on the
 *    whole CRM panel; a method is FLAGGED for a design (at every size) when its false-positive rate
 *    at α = 0.05 is outside [3.5%, 6.5%] or the coverage of its 95% CI for a planted +10% lift is
 *    outside [93%, 97%];
 *  - the grid (the default run, bench/calibration-grid.ts, issue 14): G = 10, 20, 30, 50 territories
 *    on the CRM panel and a simulated heavy-tailed panel; a (design, G, method) is FLAGGED when, on
 *    either panel, its FPR is outside [4.0%, 6.0%] or its coverage outside [93.5%, 96.5%], or the
 *    grid did not run it at that size. A pilot of n territories takes the flags of the nearest grid
 *    size at or below n (`gridSizeFor`; below the smallest size, the smallest size's flags).
 * A method flagged either way is not offered for that design (and size): primary-method.ts passes
 * over it and the report says why (`flaggedReasons` gives the text). Both records are in
 * calibration-results.json next to this file; the tables are in docs/statistics.md ("Calibration").
 *
 * Names: design = 'complete' | 'stratified' | 'matched_pairs' | 'rerandomization';
 * method = the keys of `CalibratedMethod` (the few-cluster keys as few-cluster-inference.ts names them).
 */
import flagsFile from './calibration-results.json';

/** A calibrated method name, as the bench and `isFlagged` use it. */
export type CalibratedMethod =
  | 'welch'
  | 'randomization'
  | 'cuped'
  | 'randomization_cuped_pooled'
  | 'randomization_lin'
  | 'regression_adjustment'
  | 'did'
  | 'relative_lift_delta'
  | 'relative_lift_fieller'
  | 'relative_lift_log_ratio'
  // the report's design-consistent rows (design-analyses.ts) and the panel's few-cluster methods (issue 14)
  | 'stratified_difference'
  | 'randomization_stratified'
  | 'paired_t'
  | 'lin_balancing_covariates'
  | 'randomization_t'
  | 'wild_cluster_bootstrap'
  | 'cr3_jackknife'
  | 'cr2_imbens_kolesar'
  | 'cr2_bell_mccaffrey'
  | 'cr1_t';

/** The file the bench writes. */
export interface CalibrationFlags {
  generated_by: string;
  generated_at: string | null;
  data: string;
  placebo_pilots_per_design: number;
  ri_draws: number;
  targets: { fpr: [number, number]; coverage: [number, number]; alpha: number; planted_lift: number };
  flagged: { design: string; method: string; reasons: string[] }[];
  results: Record<string, unknown>[];
  /** the same rows on the simulated heavy-tailed panel (issue 16); no flags are taken from it */
  simulated_heavy_tail?: Record<string, unknown>[];
  /** the calibration grid (issue 14; bench/calibration-grid.ts): flags per design, size and method */
  grid?: CalibrationGrid;
}

/** One cell of the grid: a panel, a size G, a design and a method over the placebo pilots. */
export interface GridCell {
  panel: 'crm' | 'simulated_heavy_tail';
  G: number;
  design: string;
  method: string;
  /** the short name printed by the bench (e.g. wcr) */
  short: string;
  /** null pilots with a result */
  n: number;
  fpr: number | null;
  fpr_ci: [number, number] | null;
  coverage: number | null;
  coverage_ci: [number, number] | null;
  /** rejection rate with the planted +10% lift */
  power: number | null;
  /** Monte Carlo SE of the FPR, √(f(1 − f)/n) */
  mc_se_fpr: number | null;
  status: 'pass' | 'fail' | 'not_run';
  reasons: string[];
}

/** The grid record the bench writes (calibration-results.json → grid). */
export interface CalibrationGrid {
  generated_by: string;
  generated_at: string | null;
  /** the calibrated sizes, ascending (e.g. 10, 20, 30, 50 territories) */
  sizes: number[];
  panels: string[];
  placebo_pilots_per_cell: number;
  /** the grid's methods (short names) when the run was limited with --methods */
  methods_run: string[] | 'all';
  monte_carlo_draws: number;
  targets: { fpr: [number, number]; coverage: [number, number]; alpha: number; planted_lift: number };
  seconds: number;
  workers: number;
  load_average: number[][];
  /** (design, G, method) that failed on either panel or was not run: not offered at that size */
  flagged: { design: string; G: number; method: string; reasons: string[] }[];
  cells: GridCell[];
}

const FLAGS = flagsFile as unknown as CalibrationFlags;

/**
 * The grid size whose flags apply to a pilot of `nTerritories`: the largest calibrated size at or
 * below it; below the smallest size, the smallest size (calibration there is an extrapolation, and
 * the reason text says so). Null when the record has no grid.
 * @param sizes the calibrated sizes (any order)
 */
export function gridSizeFor(nTerritories: number, sizes: readonly number[]): number | null {
  if (sizes.length === 0) return null;
  const sorted = [...sizes].sort((a, b) => a - b);
  let g = sorted[0];
  for (const s of sorted) if (s <= nTerritories) g = s;
  return g;
}

/**
 * The reasons for not offering `method` for `design` in `record` (empty: offered): the classic flags
 * (every size) and, when `nTerritories` is given and the record has a grid, the grid's flags at
 * `gridSizeFor(nTerritories)`, each prefixed with the size it was calibrated at.
 * @param record a calibration record (the bench's file, or a test's)
 */
export function flaggedReasonsIn(record: CalibrationFlags, design: string, method: string, nTerritories?: number): string[] {
  const classic = record.flagged.find((f) => f.design === design && f.method === method)?.reasons ?? [];
  const grid = record.grid;
  if (nTerritories === undefined || !grid) return [...classic];
  const G = gridSizeFor(nTerritories, grid.sizes) as number;
  const hit = grid.flagged.find((f) => f.design === design && f.method === method && f.G === G);
  if (!hit) return [...classic];
  const where =
    nTerritories < G
      ? `at ${nTerritories} territories, below the smallest calibrated size, the G = ${G} calibration applies`
      : `calibrated at G = ${G} territories (the grid size at or below ${nTerritories})`;
  return [...classic, ...hit.reasons.map((r) => `${where}: ${r}`)];
}

/** True when the calibration bench flagged `method` for designs of type `design` (at `nTerritories`, when given). */
export function isFlagged(design: string, method: CalibratedMethod, nTerritories?: number): boolean {
  return flaggedReasonsIn(FLAGS, design, method, nTerritories).length > 0;
}

/** The bench's reasons for flagging (empty when not flagged), for the committed record. */
export function flaggedReasons(design: string, method: CalibratedMethod, nTerritories?: number): string[] {
  return flaggedReasonsIn(FLAGS, design, method, nTerritories);
}

/** The whole calibration record (targets, when it ran, every result). */
export function calibrationRecord(): CalibrationFlags {
  return FLAGS;
}
