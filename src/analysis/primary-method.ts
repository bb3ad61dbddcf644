/**
 * The recommended primary analysis of a pilot, chosen from its design before launch (issue 3):
 *  - up to `RI_MAX_TERRITORIES` (200) territories: randomization inference that re-draws from the
 *    actual design (strata, pairs, exact counts, constraints, rerandomization rule) on the
 *    CUPED-adjusted KPI (pre-period KPI, pooled θ), with a CI by test inversion; without usable
 *    pre-period data, the same test on the unadjusted KPI;
 *  - above that: Lin's interacted regression adjustment with HC2 errors and n − k df (randomization
 *    inference would still be valid, but the asymptotic estimator is then accurate and cheaper).
 * Every analysis in the report is computed; this only names the one that decides.
 * Sources: Imbens & Rubin (2015) ch. 5 and 7; Deng et al. (2013); Lin (2013).
 */

/** Largest design for which randomization inference is the recommended primary method. */
export const RI_MAX_TERRITORIES = 200;

/** Keys of the methods that can decide a KPI. */
export type PrimaryMethodKey = 'randomization_inference_cuped' | 'randomization_inference' | 'lin_regression_hc2';

/** A named primary method with the reason it was chosen. */
export interface PrimaryMethod {
  key: PrimaryMethodKey;
  name: string;
  reason: string;
}

export const PRIMARY_METHOD_NAMES: Record<PrimaryMethodKey, string> = {
  randomization_inference_cuped:
    'randomization inference on the CUPED-adjusted KPI (pre-period KPI, pooled θ), re-drawing assignments from the actual design; CI by test inversion',
  randomization_inference: 'randomization inference on the KPI, re-drawing assignments from the actual design; CI by test inversion',
  lin_regression_hc2: "Lin's interacted regression adjustment on the pre-period KPI, HC2 standard errors, Student t with n − k df",
};

/**
 * The recommended primary method for a design.
 * @param designType complete | stratified | matched_pairs | rerandomization
 * @param nTerritories assigned territories
 * @param preperiodUsable whether the pre-period KPI can serve as covariate (false: no territory has it, or it is constant)
 */
export function recommendedPrimaryMethod(designType: string, nTerritories: number, preperiodUsable = true): PrimaryMethod {
  if (nTerritories > RI_MAX_TERRITORIES && preperiodUsable) {
    return {
      key: 'lin_regression_hc2',
      name: PRIMARY_METHOD_NAMES.lin_regression_hc2,
      reason: `${nTerritories} territories (> ${RI_MAX_TERRITORIES}): the regression estimator's large-sample inference is accurate at this size`,
    };
  }
  const key: PrimaryMethodKey = preperiodUsable ? 'randomization_inference_cuped' : 'randomization_inference';
  return {
    key,
    name: PRIMARY_METHOD_NAMES[key],
    reason:
      `${nTerritories} territories (≤ ${RI_MAX_TERRITORIES}) in a ${designType} design: randomization inference is exact for the design actually used` +
      (preperiodUsable ? ', and adjusting for the pre-period KPI removes variance without bias' : '; no usable pre-period KPI, so no covariate adjustment'),
  };
}
