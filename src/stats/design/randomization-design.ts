import { DesignError } from './allocation';
import { DesignArm, DesignType, ThresholdRule } from './design-types';
import { DesignTemplate } from './randomization';
import { buildAcceptance } from './rerandomization-acceptance';

/** What randomization inference needs to re-draw from a stored design. */
export interface RandomizationDesign {
  /** template over the units in the caller's order; forced units are singleton strata */
  template: DesignTemplate;
  /** acceptance rule over label vectors (indices into template.arms), or null */
  accept: ((labels: Uint8Array) => boolean) | null;
  /** human-readable summary for reports */
  description: {
    type: DesignType;
    strata: number;
    forced: number;
    acceptance: string | null;
  };
}

/** A stored assignment as `randomizationDesignFromStored` reads it. */
export interface StoredDesignLike {
  type: DesignType;
  arms: readonly DesignArm[];
  rerandomization?: { covariates: string[]; acceptance_probability: number; threshold_rule?: ThresholdRule } | null;
  /** the threshold a the draw recorded (rerandomization_record.threshold): replayed as is */
  rerandomization_threshold?: number | null;
  constraints?: { forced?: { code: string; arm: string }[]; max_treated_share?: { covariate: string; max_share: number } | null } | null;
}

/**
 * Builds the randomization-inference design of a stored assignment: strata (stratum, pair or 'all')
 * with their exact per-arm counts, forced territories held fixed (singleton strata), and the
 * acceptance rule (rerandomization threshold, treated-share cap) rebuilt from the stored covariates
 * and the recorded threshold (an empirical threshold cannot be recomputed without the draw's plan).
 *
 * @param design the stored design (assignment.design)
 * @param units the assigned territories in the order the caller will pass KPI values: code, arm,
 *   stratum as stored (pair id for matched pairs), covariates snapshot
 * @throws DesignError on an arm not in the design
 */
export function randomizationDesignFromStored(
  design: StoredDesignLike,
  units: readonly { code: string; arm: string; stratum: string; covariates?: Record<string, number | null | undefined> }[],
): RandomizationDesign {
  const arms = design.arms.map((a) => a.key);
  const armIndex = new Map(arms.map((k, i) => [k, i]));
  const forced = new Set((design.constraints?.forced ?? []).map((f) => f.code));
  const strata: DesignTemplate['strata'] = [];
  const byKey = new Map<string, number>();
  units.forEach((u, i) => {
    const a = armIndex.get(u.arm);
    if (a === undefined) throw new DesignError(`territory '${u.code}' has arm '${u.arm}', which is not in the design`);
    const key = forced.has(u.code) ? `forced:${u.code}` : u.stratum;
    let s = byKey.get(key);
    if (s === undefined) {
      s = strata.length;
      byKey.set(key, s);
      strata.push({ stratum: key, units: [], counts: new Array<number>(arms.length).fill(0) });
    }
    strata[s].units.push(i);
    strata[s].counts[a] += 1;
  });
  const acceptance = buildAcceptance(
    units.map((u) => ({ code: u.code, covariates: u.covariates })),
    { rerandomization: design.rerandomization ?? null, constraints: design.constraints ? { max_treated_share: design.constraints.max_treated_share ?? undefined } : null, arms: design.arms },
    arms,
    { storedThreshold: design.rerandomization_threshold ?? null },
  );
  return {
    template: { arms, n_units: units.length, strata },
    accept: acceptance ? acceptance.accept : null,
    description: {
      type: design.type,
      strata: new Set(units.map((u) => u.stratum)).size,
      forced: forced.size,
      acceptance: acceptance ? acceptance.describe : null,
    },
  };
}
