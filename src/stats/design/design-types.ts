/**
 * The shapes shared by the design files (designs.ts, matched-blocks.ts, rerandomization-acceptance.ts,
 * randomization-design.ts): design specs, units, draws, and their limits.
 */
import { ArmSpec, StratumTarget } from './allocation';
import { PRNG_ALGORITHM } from './prng';

/**
 * Version of the general design algorithm (pairing, forced units, acceptance loop). Stored with
 * every assignment drawn by `drawDesign` that is not a plain complete/stratified draw; bump it when
 * any step below changes.
 */
export const DESIGN_ALGORITHM_VERSION_V2 = `pilotlab-design@2 (${PRNG_ALGORITHM})`;

/** The design types. */
export type DesignType = 'complete' | 'stratified' | 'matched_pairs' | 'rerandomization';
export const DESIGN_TYPES: readonly DesignType[] = ['complete', 'stratified', 'matched_pairs', 'rerandomization'];
/** Each design type in words, for text a reader sees (the codes stay in JSON bodies). */
export const DESIGN_TYPE_LABELS: Readonly<Record<DesignType, string>> = {
  complete: 'complete',
  stratified: 'stratified',
  matched_pairs: 'matched pairs',
  rerandomization: 'rerandomization',
};

/** Most arms a pilot may have: one control and up to 4 treatments. */
export const MAX_ARMS = 5;

/** Default and largest number of draws the acceptance loop may try. */
export const DEFAULT_MAX_DRAWS = 100_000;
export const MAX_MAX_DRAWS = 1_000_000;

/** A territory as the design sees it: code, stratum (stratified designs), covariates by name. */
export interface DesignUnit {
  code: string;
  stratum?: string | null;
  /** numeric covariates by name (attributes and pre-period KPIs such as `pre_period_revenue_won`); null = missing */
  covariates?: Record<string, number | null | undefined>;
}

/** An arm: key, role (control or treatment) and an exact count or a ratio (see allocateCounts). */
export interface DesignArm extends ArmSpec {
  role?: 'control' | 'treatment';
}

/** Restrictions on the assignment. */
export interface DesignConstraints {
  /** territories that must be in a given arm */
  force?: { code: string; arm: string }[];
  /** territories left out of the pilot */
  exclude?: string[];
  /** the treatment arms together may hold at most `max_share` (0..1) of the total of `covariate` */
  max_treated_share?: { covariate: string; max_share: number };
}

/** Everything that determines a draw (with the units). */
export interface DesignSpec {
  type: DesignType;
  arms: readonly DesignArm[];
  /** PRNG seed, integer 0..2^53 − 1 */
  seed: number;
  /** matched_pairs: the covariate to pair on (e.g. `pre_period_revenue_won`) */
  pair_on?: string | null;
  /**
   * rerandomization: covariates of M, acceptance probability p_a in (0, 1], and how the threshold a
   * is set (`threshold_rule`, absent = `chi_square` as drawn before the rule existed)
   */
  rerandomization?: { covariates: string[]; acceptance_probability: number; threshold_rule?: ThresholdRule } | null;
  constraints?: DesignConstraints | null;
  /** cap on draws of the acceptance loop (default 100,000) */
  max_draws?: number | null;
}

/** A block of a matched-pairs design: one territory per arm, sorted by the pairing value. */
export interface MatchedBlock {
  /** 'pair-001', 'pair-002', … in increasing order of the pairing value */
  pair: string;
  codes: string[];
  values: number[];
  /** max − min of the pairing value within the block (for two arms: |difference|) */
  spread: number;
}

/**
 * How the rerandomization threshold a is set. `chi_square`: the χ²_df quantile at p_a (Morgan &
 * Rubin 2012, asymptotic: assumes roughly normal covariate means). `empirical`: the p_a quantile of
 * M over RERANDOMIZATION_CALIBRATION_DRAWS complete randomizations of the same design, so the stated
 * acceptance probability holds for skewed covariates too (one very large territory).
 */
export type ThresholdRule = 'chi_square' | 'empirical';

/** Complete randomizations drawn to set an empirical threshold (the p_a quantile's Monte Carlo SE is √(p_a(1−p_a)/B)). */
export const RERANDOMIZATION_CALIBRATION_DRAWS = 10_000;

/**
 * Version of the general design algorithm for rerandomization with the empirical threshold:
 * version 2's steps, plus the calibration draws (their own PRNG stream, see designs.ts step 5).
 */
export const DESIGN_ALGORITHM_VERSION_V3 = `pilotlab-design@3 (${PRNG_ALGORITHM})`;

/** Rerandomization record: enough to replay the acceptance rule and to report it. */
export interface RerandomizationRecord {
  covariates: string[];
  covariates_dropped: { covariate: string; reason: string }[];
  covariates_imputed: { covariate: string; n_imputed: number }[];
  missing_values: 'mean-imputed';
  acceptance_probability: number;
  df: number;
  /** the threshold a (χ²_df quantile, or the empirical p_a quantile of M); accept when M ≤ a */
  threshold: number;
  /** how a was set (absent on records drawn before the rule existed: chi_square) */
  threshold_rule?: ThresholdRule;
  /** the χ²_df quantile at acceptance_probability, for comparison with an empirical threshold */
  chi_square_threshold?: number;
  /** empirical rule: complete randomizations drawn to set a */
  calibration_draws?: number;
  /** M of the accepted assignment */
  mahalanobis: number;
}

/** A drawn design. */
export interface DesignDraw {
  /** arm key per assigned territory code */
  arms: Record<string, string>;
  /** stratum label per assigned code, as analyses should use it: stratum, pair id, or 'all' */
  unit_strata: Record<string, string>;
  /** per stratum (or pair) the number of units per arm */
  strata: StratumTarget[];
  /** eligible territories not in the assignment, with why */
  left_out: { code: string; reason: 'excluded' | 'odd_one_out' }[];
  pairs: MatchedBlock[] | null;
  rerandomization: RerandomizationRecord | null;
  constraints: {
    forced: { code: string; arm: string }[];
    excluded: string[];
    max_treated_share: { covariate: string; max_share: number; realised_share: number } | null;
  } | null;
  /** draws of the acceptance loop until the first accepted one (1 without an acceptance rule) */
  draws_tried: number;
  draws_accepted: number;
  algorithm_version: string;
}

/** Order of territory codes by UTF-16 code units (locale-free, the same on every machine). */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
