import { DesignError } from './allocation';
import { DesignSpec, DesignUnit, RERANDOMIZATION_CALIBRATION_DRAWS, RerandomizationRecord, ThresholdRule } from './design-types';
import { createPrng, Prng } from './prng';
import { chiSquareQuantile, mahalanobisOfLabels, whitenCovariates } from './mahalanobis';

/** The acceptance rule of a design over label vectors of the assigned units (sorted by code). */
export interface Acceptance {
  accept(labels: Uint8Array): boolean;
  mahalanobis(labels: Uint8Array): number;
  treatedShare(labels: Uint8Array): number;
  rerandomization: Omit<RerandomizationRecord, 'mahalanobis'> | null;
  describe: string;
}

/**
 * How the threshold is obtained beyond the χ² rule: at a draw, `sample` (one complete randomization
 * of the design's strata into `labels`, forced units fixed) and `seed` (the design seed) set an
 * empirical threshold; at replay (randomization inference), `storedThreshold` is the threshold the
 * draw recorded, used as is.
 */
export interface ThresholdCalibration {
  sample?: (rng: Prng, labels: Uint8Array) => void;
  seed?: number;
  storedThreshold?: number | null;
}

/** The PRNG seed of the calibration draws: the design seed moved by a fixed odd offset (mod 2^53), a stream apart from the draw's. */
export function calibrationSeed(seed: number): number {
  return Number((BigInt(seed) + 0x9e3779b97f4an) % 2n ** 53n);
}

/**
 * The empirical threshold: the ⌈p_a·B⌉-th smallest M over B complete randomizations (type-1
 * sample quantile), so P(M ≤ a) ≥ p_a under the design's own randomization, ties included
 * (Morgan & Rubin 2012 §3 define a by P(M ≤ a) = p_a; the χ² quantile is its normal approximation).
 *
 * @param mahalanobis M of a label vector
 * @param n number of units (label vector length)
 * @param p acceptance probability in (0, 1)
 * @param sample one complete randomization into `labels`
 * @param seed PRNG seed of the calibration stream
 * @param draws B
 */
export function empiricalThreshold(
  mahalanobis: (labels: Uint8Array) => number,
  n: number,
  p: number,
  sample: (rng: Prng, labels: Uint8Array) => void,
  seed: number,
  draws = RERANDOMIZATION_CALIBRATION_DRAWS,
): number {
  const rng = createPrng(seed);
  const labels = new Uint8Array(n);
  const m = new Float64Array(draws);
  for (let b = 0; b < draws; b++) {
    sample(rng, labels);
    m[b] = mahalanobis(labels);
  }
  m.sort();
  return m[Math.max(0, Math.ceil(p * draws) - 1)];
}

/** The threshold of rule `rule` at p_a (Infinity at p_a = 1). @throws DesignError when an empirical threshold has neither a sampler nor a stored value */
function thresholdOf(
  rule: ThresholdRule,
  p: number,
  chiSquare: number,
  mahalanobis: (labels: Uint8Array) => number,
  n: number,
  calibration: ThresholdCalibration,
): number {
  if (p >= 1) return Infinity;
  if (calibration.storedThreshold !== undefined && calibration.storedThreshold !== null) return calibration.storedThreshold;
  if (rule === 'chi_square') return chiSquare;
  if (!calibration.sample || calibration.seed === undefined) {
    throw new DesignError('an empirical rerandomization threshold is set at the draw; replaying it needs the threshold the draw recorded');
  }
  return empiricalThreshold(mahalanobis, n, p, calibration.sample, calibrationSeed(calibration.seed));
}

/**
 * Builds the acceptance rule of a design (rerandomization threshold and/or treated-share cap) over
 * units in a fixed order; null when the design has none. Shared by drawing and by randomization
 * inference, so both apply the identical rule: a draw sets the threshold (χ² quantile, or the
 * empirical quantile from `calibration.sample`), a replay passes the recorded one.
 *
 * @param units the assigned territories, in the order of the label vectors
 * @param spec the design (uses rerandomization and constraints.max_treated_share)
 * @param armKeys arm keys; label a means armKeys[a]
 * @param calibration how an empirical threshold is set or replayed ({@link ThresholdCalibration})
 * @throws DesignError when no covariate is usable, a cap covariate is missing for a territory, or
 *   an empirical threshold can be neither computed nor replayed
 */
export function buildAcceptance(
  units: readonly DesignUnit[],
  spec: Pick<DesignSpec, 'rerandomization' | 'constraints' | 'arms'>,
  armKeys: readonly string[],
  calibration: ThresholdCalibration = {},
): Acceptance | null {
  const r = spec.rerandomization;
  const cap = spec.constraints?.max_treated_share;
  if (!r && !cap) return null;
  let mahalanobis: (labels: Uint8Array) => number = () => 0;
  let record: Acceptance['rerandomization'] = null;
  let threshold = Infinity;
  if (r) {
    const w = whitenCovariates(
      r.covariates,
      units.map((u) => u.covariates ?? {}),
    );
    if (w.k === 0) throw new DesignError(`none of the rerandomization covariates (${r.covariates.join(', ')}) varies across the territories`);
    const df = w.k * (armKeys.length - 1);
    const rule: ThresholdRule = r.threshold_rule ?? 'chi_square';
    const chiSquare = r.acceptance_probability >= 1 ? Infinity : chiSquareQuantile(r.acceptance_probability, df);
    mahalanobis = mahalanobisOfLabels(w, armKeys.length);
    threshold = thresholdOf(rule, r.acceptance_probability, chiSquare, mahalanobis, units.length, calibration);
    const finite = (x: number) => (Number.isFinite(x) ? x : Number.MAX_VALUE);
    record = {
      covariates: w.covariates,
      covariates_dropped: w.dropped,
      covariates_imputed: w.imputed,
      missing_values: 'mean-imputed',
      acceptance_probability: r.acceptance_probability,
      df,
      threshold: finite(threshold),
      // Records of the χ² rule keep their former shape.
      ...(rule === 'empirical' ? { threshold_rule: rule, chi_square_threshold: finite(chiSquare), calibration_draws: RERANDOMIZATION_CALIBRATION_DRAWS } : {}),
    };
  }
  let treatedShare: (labels: Uint8Array) => number = () => 0;
  if (cap) {
    const values = Float64Array.from(
      units.map((u) => {
        const v = u.covariates?.[cap.covariate];
        if (v === null || v === undefined || !Number.isFinite(v)) {
          throw new DesignError(`territory '${u.code}' has no value for '${cap.covariate}', which the treated-share cap needs`);
        }
        return v;
      }),
    );
    const total = values.reduce((s, v) => s + v, 0);
    const roles = spec.arms.map((a) => a.role);
    const treated = new Uint8Array(armKeys.length);
    armKeys.forEach((_, a) => {
      treated[a] = roles.some((x) => x !== undefined) ? (roles[a] === 'treatment' ? 1 : 0) : a === 0 ? 0 : 1;
    });
    treatedShare = (labels) => {
      if (!(total > 0)) return 0;
      let s = 0;
      for (let i = 0; i < values.length; i++) if (treated[labels[i]]) s += values[i];
      return s / total;
    };
  }
  const maxShare = cap?.max_share ?? Infinity;
  return {
    accept: (labels) => (!r || mahalanobis(labels) <= threshold) && (!cap || treatedShare(labels) <= maxShare + 1e-12),
    mahalanobis,
    treatedShare,
    rerandomization: record,
    describe: [r ? `M ≤ ${threshold.toPrecision(6)}${r.threshold_rule === 'empirical' ? ` (empirical ${r.acceptance_probability} quantile of M)` : ''}` : null, cap ? `treated share of ${cap.covariate} ≤ ${cap.max_share}` : null]
      .filter(Boolean)
      .join(' and '),
  };
}

