/**
 * Which design × method pairs failed calibration (`npm run bench:calibration`, bench/calibration.ts):
 * on 1,000 placebo pilots per design on real CRM history, a method is FLAGGED for a design when its
 * false-positive rate at α = 0.05 is outside [3.5%, 6.5%] or the coverage of its 95% CI for a planted
 * +10% lift is outside [93%, 97%]. The bench writes the list to calibration-results.json next to this
 * file; the table it printed is in docs/statistics.md ("Calibration").
 *
 * FOR REPORTS (a1): before naming a method as the pilot's recommended primary method, call
 * `isFlagged(designType, method)` and skip a flagged method (fall back to the next candidate, e.g.
 * randomization inference without adjustment, and say why in the plan). `flaggedReasons` gives the
 * bench's reasons for the report's text.
 *
 * Names: design = 'complete' | 'stratified' | 'matched_pairs' | 'rerandomization';
 * method = 'welch' | 'randomization' | 'cuped' | 'randomization_cuped_pooled' | 'randomization_lin' |
 * 'regression_adjustment' | 'did', and the relative-lift intervals 'relative_lift_delta' |
 * 'relative_lift_fieller' | 'relative_lift_log_ratio' (issue 16).
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
  | 'relative_lift_log_ratio';

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
}

const FLAGS = flagsFile as unknown as CalibrationFlags;

/** True when the calibration bench flagged `method` for designs of type `design`. */
export function isFlagged(design: string, method: CalibratedMethod): boolean {
  return FLAGS.flagged.some((f) => f.design === design && f.method === method);
}

/** The bench's reasons for flagging (empty when not flagged). */
export function flaggedReasons(design: string, method: CalibratedMethod): string[] {
  return FLAGS.flagged.find((f) => f.design === design && f.method === method)?.reasons ?? [];
}

/** The whole calibration record (targets, when it ran, every result). */
export function calibrationRecord(): CalibrationFlags {
  return FLAGS;
}
