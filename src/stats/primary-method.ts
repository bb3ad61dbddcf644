/**
 * The recommended primary analysis of a pilot, chosen from its design before launch (issue 3):
 *  - up to `RI_MAX_TERRITORIES` (200) territories: randomization inference that re-draws from the
 *    actual design (strata, pairs, exact counts, constraints, rerandomization rule) on the
 *    pre-period-adjusted KPI: Lin's interacted adjustment re-estimated for every re-drawn assignment
 *    (issue 16: pooled θ was biased under proportional lifts), with a CI by test inversion; without usable
 *    pre-period data, the same test on the unadjusted KPI;
 *  - above that: Lin's interacted regression adjustment with HC2 errors and n − k df (randomization
 *    inference would still be valid, but the asymptotic estimator is then accurate and cheaper).
 * A candidate whose method the calibration bench flagged for this design type (classic record:
 * false-positive rate outside [3.5%, 6.5%] or coverage outside [93%, 97%]) or for this design AT THIS
 * SIZE (the grid: FPR outside [4.0%, 6.0%] or coverage outside [93.5%, 96.5%] at the grid size at or
 * below the pilot's territory count; calibration-flags.ts) is skipped, and the next candidate is
 * named, with the reasons recorded. When every candidate is flagged, no method is valid there: the
 * result says so (`none_valid`), and randomization inference is still computed and shown.
 * The panel's few-cluster method (`recommendedPanelMethod`) follows the same rule over the wild
 * cluster bootstrap, CR3, CR2 with Imbens–Kolesár df and CR2 with Bell–McCaffrey df, in that order.
 * Every analysis in the report is computed; this only names the one that decides.
 * Sources: Imbens & Rubin (2015) ch. 5 and 7; Deng et al. (2013); Lin (2013).
 */
import { CalibratedMethod, flaggedReasons } from './calibration-flags';
import { DESIGN_TYPE_LABELS, type DesignType } from './design/design-types';
import { DEFAULT_FEW_CLUSTER_METHOD, FEW_CLUSTER_METHOD_LABELS, FewClusterMethod } from './few-cluster-inference';

/** Largest design for which randomization inference is the recommended primary method. */
export const RI_MAX_TERRITORIES = 200;

/** A design type in the reason sentences: DESIGN_TYPE_LABELS (an unknown code as it is). */
function designWords(designType: string): string {
  return DESIGN_TYPE_LABELS[designType as DesignType] ?? designType;
}

/** Keys of the methods that can decide a KPI. */
export type PrimaryMethodKey = 'randomization_inference_cuped' | 'randomization_inference' | 'lin_regression_hc2' | 'synthetic_did_placebo';

/** A named primary method with the reason it was chosen. */
export interface PrimaryMethod {
  key: PrimaryMethodKey;
  name: string;
  reason: string;
  /** candidates passed over because the calibration bench flagged their method for this design */
  skipped: { key: PrimaryMethodKey; reasons: string[] }[];
  /** true when every candidate was flagged for this design and size: no method meets the calibration targets */
  none_valid?: boolean;
}

/** The calibrated methods a primary method relies on (all must be unflagged). */
const CALIBRATED_AS: Record<PrimaryMethodKey, CalibratedMethod[]> = {
  // the deciding adjusted RI is RI on Lin's adjustment re-estimated per assignment (issue 16): its own bench row
  randomization_inference_cuped: ['randomization_lin'],
  randomization_inference: ['randomization'],
  lin_regression_hc2: ['regression_adjustment'],
  synthetic_did_placebo: [],
};

/** Short names of the primary methods, for the text that says which one was passed over and why. */
export const PRIMARY_METHOD_SHORT_NAMES: Record<PrimaryMethodKey, string> = {
  randomization_inference_cuped: "randomization inference on Lin's adjustment",
  randomization_inference: 'randomization inference on the KPI',
  lin_regression_hc2: "Lin's regression adjustment (HC2)",
  synthetic_did_placebo: 'synthetic difference-in-differences',
};

/** The skipped methods in words: short name and reasons (the bench row's code prefix dropped). */
function skippedText(skipped: { key: PrimaryMethodKey; reasons: string[] }[], sep: string): string {
  return skipped.map((x) => `${PRIMARY_METHOD_SHORT_NAMES[x.key]} (${x.reasons.map((r) => r.replace(/^[a-z0-9_]+: /, '')).join('; ')})`).join(sep);
}

export const PRIMARY_METHOD_NAMES: Record<PrimaryMethodKey, string> = {
  randomization_inference_cuped:
    "randomization inference on Lin's interacted adjustment for the pre-period KPI (arm-specific slopes), re-estimated for every assignment re-drawn from the actual design; CI by test inversion",
  randomization_inference: 'randomization inference on the KPI, re-drawing assignments from the actual design; CI by test inversion',
  lin_regression_hc2: "Lin's interacted regression adjustment on the pre-period KPI, HC2 standard errors, Student t with n − k df",
  synthetic_did_placebo:
    'synthetic difference-in-differences on the territory × week panel (Arkhangelsky et al. 2021), CI and p from one placebo randomization test over re-assignments of the treated set among all territories (CI by test inversion)',
};

/**
 * The recommended primary method for a design.
 * @param designType complete | stratified | matched_pairs | rerandomization | chosen | selected (chosen and selected: always SDID with placebo inference)
 * @param nTerritories assigned territories
 * @param preperiodUsable whether the pre-period KPI can serve as covariate (false: no territory has it, or it is constant)
 */
export function recommendedPrimaryMethod(designType: string, nTerritories: number, preperiodUsable = true): PrimaryMethod {
  if (designType === 'chosen' || designType === 'selected') {
    return {
      key: 'synthetic_did_placebo',
      name: PRIMARY_METHOD_NAMES.synthetic_did_placebo,
      reason:
        (designType === 'chosen'
          ? 'a chosen design names its 1–5 treated territories (no randomization): '
          : 'a selected design has 1–5 treated territories that PilotLab picked by placebo backtests (no randomization): ') +
        'randomization inference, Welch and CR2 have no valid reference here, ' +
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
  const reasonsOf = (key: PrimaryMethodKey) => CALIBRATED_AS[key].flatMap((m) => flaggedReasons(designType, m, nTerritories).map((r) => `${m}: ${r}`));
  const key = candidates.find((k) => {
    const reasons = reasonsOf(k);
    if (reasons.length) skipped.push({ key: k, reasons });
    return reasons.length === 0;
  });
  if (!key) {
    return {
      key: 'randomization_inference',
      name: PRIMARY_METHOD_NAMES.randomization_inference,
      reason:
        `no method is valid for a ${designWords(designType)} design with ${nTerritories} territories: every candidate failed calibration ` +
        `(${skippedText(skipped, ' | ')}); randomization inference is shown, but its result does not meet the calibration targets here`,
      skipped,
      none_valid: true,
    };
  }
  const base =
    key === 'lin_regression_hc2'
      ? large
        ? `${nTerritories} territories (> ${RI_MAX_TERRITORIES}): the regression estimator's large-sample inference is accurate at this size`
        : `${nTerritories} territories in a ${designWords(designType)} design`
      : `${nTerritories} territories${large ? '' : ` (≤ ${RI_MAX_TERRITORIES})`} in a ${designWords(designType)} design: randomization inference is exact for the design actually used` +
        (key === 'randomization_inference_cuped'
          ? ', and adjusting for the pre-period KPI removes variance without bias'
          : preperiodUsable
            ? ''
            : '; no usable pre-period KPI, so no covariate adjustment');
  const note = skipped.length ? `; passed over after calibration: ${skippedText(skipped, ', ')}` : '';
  return { key, name: PRIMARY_METHOD_NAMES[key], reason: base + note, skipped };
}

/** The panel's deciding few-cluster method, chosen like the primary method (see the file header). */
export interface PanelMethodChoice {
  /** the deciding method; null when every candidate was flagged for this design and size */
  method: FewClusterMethod | null;
  reason: string;
  skipped: { method: FewClusterMethod; reasons: string[] }[];
}

/** Candidates for the panel's deciding method, in order (the default first). */
export const PANEL_METHOD_CANDIDATES: readonly FewClusterMethod[] = [DEFAULT_FEW_CLUSTER_METHOD, 'cr3_jackknife', 'cr2_imbens_kolesar', 'cr2_bell_mccaffrey'];

/**
 * The few-cluster method that decides the panel DiD of a pilot without a locked choice: the first
 * of PANEL_METHOD_CANDIDATES the calibration bench did not flag for this design and size.
 * @param designType complete | stratified | matched_pairs | rerandomization
 * @param nTerritories assigned territories
 * @returns the method (null: none valid here, with the reasons), the reason text for the report
 */
export function recommendedPanelMethod(designType: string, nTerritories: number): PanelMethodChoice {
  const skipped: PanelMethodChoice['skipped'] = [];
  for (const method of PANEL_METHOD_CANDIDATES) {
    const reasons = flaggedReasons(designType, method, nTerritories);
    if (reasons.length === 0) {
      const passed = skipped.length ? `; passed over after calibration: ${skipped.map((x) => `${FEW_CLUSTER_METHOD_LABELS[x.method]} (${x.reasons.join('; ')})`).join(', ')}` : '';
      return { method, reason: `${FEW_CLUSTER_METHOD_LABELS[method]} decides the panel of this ${designWords(designType)} design with ${nTerritories} territories${passed}`, skipped };
    }
    skipped.push({ method, reasons });
  }
  return {
    method: null,
    reason: `no few-cluster method is valid for the panel of a ${designWords(designType)} design with ${nTerritories} territories: ${skipped.map((x) => `${FEW_CLUSTER_METHOD_LABELS[x.method]} (${x.reasons.join('; ')})`).join(', ')}; the panel is shown as robustness only`,
    skipped,
  };
}
