/**
 * The recommended primary analysis of a pilot, chosen from its design before launch (issue 3):
 *  - up to `RI_MAX_TERRITORIES` (200) territories: randomization inference that re-draws from the
 *    actual design (strata, pairs, exact counts, constraints, rerandomization rule) on the
 *    pre-period-adjusted KPI: Lin's interacted adjustment re-estimated for every re-drawn assignment
 *    (issue 16: pooled θ was biased under proportional lifts), with a CI by test inversion; without usable
 *    pre-period data, the same test on the unadjusted KPI;
 *  - above that: Lin's interacted regression adjustment with HC2 errors and n − k df (randomization
 *    inference would still be valid, but the asymptotic estimator is then accurate and cheaper).
 * A candidate whose method the calibration bench flagged for this design type (false-positive rate
 * outside [3.5%, 6.5%] or coverage outside [93%, 97%] on placebo pilots, calibration-flags.ts) is
 * skipped, and the next candidate is named, with the reasons recorded.
 * Every analysis in the report is computed; this only names the one that decides.
 * Sources: Imbens & Rubin (2015) ch. 5 and 7; Deng et al. (2013); Lin (2013).
 */
import { CalibratedMethod, flaggedReasons } from './calibration-flags';

/** Largest design for which randomization inference is the recommended primary method. */
export const RI_MAX_TERRITORIES = 200;

/** Keys of the methods that can decide a KPI. */
export type PrimaryMethodKey = 'randomization_inference_cuped' | 'randomization_inference' | 'lin_regression_hc2' | 'synthetic_did_placebo';

/** A named primary method with the reason it was chosen. */
export interface PrimaryMethod {
  key: PrimaryMethodKey;
  name: string;
  reason: string;
  /** candidates passed over because the calibration bench flagged their method for this design */
  skipped: { key: PrimaryMethodKey; reasons: string[] }[];
}

/** The calibrated methods a primary method relies on (all must be unflagged). */
const CALIBRATED_AS: Record<PrimaryMethodKey, CalibratedMethod[]> = {
  // the deciding adjusted RI is RI on Lin's adjustment re-estimated per assignment (issue 16): its own bench row
  randomization_inference_cuped: ['randomization_lin'],
  randomization_inference: ['randomization'],
  lin_regression_hc2: ['regression_adjustment'],
  synthetic_did_placebo: [],
};

export const PRIMARY_METHOD_NAMES: Record<PrimaryMethodKey, string> = {
  randomization_inference_cuped:
    "randomization inference on Lin's interacted adjustment for the pre-period KPI (arm-specific slopes), re-estimated for every assignment re-drawn from the actual design; CI by test inversion",
  randomization_inference: 'randomization inference on the KPI, re-drawing assignments from the actual design; CI by test inversion',
  lin_regression_hc2: "Lin's interacted regression adjustment on the pre-period KPI, HC2 standard errors, Student t with n − k df",
  synthetic_did_placebo:
    'synthetic difference-in-differences on the territory × week panel (Arkhangelsky et al. 2021), CI and p from the empirical distribution of the placebo estimates (Algorithm 4 draws; CI by test inversion)',
};

/**
 * The recommended primary method for a design.
 * @param designType complete | stratified | matched_pairs | rerandomization | chosen (always SDID with placebo inference)
 * @param nTerritories assigned territories
 * @param preperiodUsable whether the pre-period KPI can serve as covariate (false: no territory has it, or it is constant)
 */
export function recommendedPrimaryMethod(designType: string, nTerritories: number, preperiodUsable = true): PrimaryMethod {
  if (designType === 'chosen') {
    return {
      key: 'synthetic_did_placebo',
      name: PRIMARY_METHOD_NAMES.synthetic_did_placebo,
      reason:
        'a chosen design names its 1–5 treated territories (no randomization): randomization inference, Welch and CR2 have no valid reference here, ' +
        'so SDID against the donor pool decides, with the CI and p of its placebo randomization test (the placebo-in-space permutation p is shown, not used to decide)',
      skipped: [],
    };
  }
  const large = nTerritories > RI_MAX_TERRITORIES;
  const candidates: PrimaryMethodKey[] = preperiodUsable
    ? large
      ? ['lin_regression_hc2', 'randomization_inference_cuped', 'randomization_inference']
      : ['randomization_inference_cuped', 'randomization_inference', 'lin_regression_hc2']
    : ['randomization_inference'];
  const skipped: PrimaryMethod['skipped'] = [];
  const reasonsOf = (key: PrimaryMethodKey) => CALIBRATED_AS[key].flatMap((m) => flaggedReasons(designType, m).map((r) => `${m}: ${r}`));
  const key = candidates.find((k) => {
    const reasons = reasonsOf(k);
    if (reasons.length) skipped.push({ key: k, reasons });
    return reasons.length === 0;
  });
  if (!key) {
    return {
      key: 'randomization_inference',
      name: PRIMARY_METHOD_NAMES.randomization_inference,
      reason: `every candidate was flagged by the calibration bench for ${designType} designs; randomization inference is kept because it is exact for the design actually used`,
      skipped,
    };
  }
  const base =
    key === 'lin_regression_hc2'
      ? large
        ? `${nTerritories} territories (> ${RI_MAX_TERRITORIES}): the regression estimator's large-sample inference is accurate at this size`
        : `${nTerritories} territories in a ${designType} design`
      : `${nTerritories} territories${large ? '' : ` (≤ ${RI_MAX_TERRITORIES})`} in a ${designType} design: randomization inference is exact for the design actually used` +
        (key === 'randomization_inference_cuped'
          ? ', and adjusting for the pre-period KPI removes variance without bias'
          : preperiodUsable
            ? ''
            : '; no usable pre-period KPI, so no covariate adjustment');
  const note = skipped.length ? `; passed over after calibration: ${skipped.map((x) => `${x.key} (${x.reasons.join('; ')})`).join(', ')}` : '';
  return { key, name: PRIMARY_METHOD_NAMES[key], reason: base + note, skipped };
}
