import { DesignError } from './allocation';
import { DesignSpec, DesignUnit, RerandomizationRecord } from './design-types';
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
 * Builds the acceptance rule of a design (rerandomization threshold and/or treated-share cap) over
 * units in a fixed order; null when the design has none. Shared by drawing and by randomization
 * inference, so both apply the identical rule.
 *
 * @param units the assigned territories, in the order of the label vectors
 * @param spec the design (uses rerandomization and constraints.max_treated_share)
 * @param armKeys arm keys; label a means armKeys[a]
 * @throws DesignError when no covariate is usable or a cap covariate is missing for a territory
 */
export function buildAcceptance(units: readonly DesignUnit[], spec: Pick<DesignSpec, 'rerandomization' | 'constraints' | 'arms'>, armKeys: readonly string[]): Acceptance | null {
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
    threshold = r.acceptance_probability >= 1 ? Infinity : chiSquareQuantile(r.acceptance_probability, df);
    mahalanobis = mahalanobisOfLabels(w, armKeys.length);
    record = {
      covariates: w.covariates,
      covariates_dropped: w.dropped,
      covariates_imputed: w.imputed,
      missing_values: 'mean-imputed',
      acceptance_probability: r.acceptance_probability,
      df,
      threshold: Number.isFinite(threshold) ? threshold : Number.MAX_VALUE,
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
    describe: [r ? `M ≤ ${threshold.toPrecision(6)}` : null, cap ? `treated share of ${cap.covariate} ≤ ${cap.max_share}` : null]
      .filter(Boolean)
      .join(' and '),
  };
}

