import { AppException } from '../common/errors/app.exception';
import { FewTreatedInputError } from '../stats/synthetic/few-treated';

/** What the user can change, per few-treated input error (the `details.what_to_change` of the 422). */
const WHAT_TO_CHANGE: Record<FewTreatedInputError['code'], string> = {
  PRE_PERIOD_TOO_SHORT: 'start the pre-period earlier (pre_period.start) so that it spans at least the minimum number of weeks',
  EMPTY_DONOR_POOL: 'make more territories eligible, exclude fewer, or wait until territories reserved by running pilots are free',
  TREATED_MISSING_WEEKS: 'choose treated territories with data over the whole pre-period, or start the pre-period after their first recorded week',
  K_EXCEEDS_POOL: 'name fewer treated territories (design.treated), ask for fewer (design.k), or make more territories eligible',
  CAP_EXCLUDES_ALL: 'raise design.constraints.max_treated_share.max_share to at least the smallest attainable share, ask for fewer treated territories (design.k), or force fewer large ones',
  SELECTION_INFEASIBLE: 'force at most k territories into the treatment arm, only eligible ones, and leave enough territories that may be treated',
  INVALID_PANEL: 'check the pilot windows and the eligible territories',
};

/**
 * The API error (422, `{statusCode, code, message, details}`) of a few-treated input error thrown by
 * the statistical core (src/stats/synthetic/few-treated.ts) or the chosen design's donor-pool rules:
 * the core's code (INVALID_PANEL becomes DESIGN_INFEASIBLE), its message with what to change, and its
 * details plus `what_to_change`.
 */
export function fewTreatedException(err: FewTreatedInputError): AppException {
  const hint = WHAT_TO_CHANGE[err.code];
  const code = err.code === 'INVALID_PANEL' ? 'DESIGN_INFEASIBLE' : err.code;
  return new AppException(code, `${err.message}; ${hint}`, { ...err.details, what_to_change: hint });
}
