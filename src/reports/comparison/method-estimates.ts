import { sampleSd, mean } from '../../stats/descriptive';
import { DESIGN_TYPE_LABELS, type DesignType } from '../../stats/design/design-types';
import { RandomizationTestResult } from '../../stats/randomization-inference';
import { TTestResult } from '../../stats/welch';
import { ArmSummary, MethodEstimate } from '../report.types';

/**
 * One arm's summary: territories with a defined value, territories without one (null), the mean and
 * the sample standard deviation (n − 1) of the defined values in the KPI's unit (null when undefined).
 */
export function summariseArm(arm: string, values: readonly (number | null)[]): ArmSummary {
  const defined = values.filter((v): v is number => v !== null);
  return {
    arm,
    n_territories: defined.length,
    n_missing: values.length - defined.length,
    mean: mean(defined),
    sd: sampleSd(defined),
  };
}

/**
 * What a randomization test without the stored design (it could not be replayed) did instead: the
 * fallback of randomizationSetup, in words, for the method's note and the randomization block.
 */
export const DESIGN_FALLBACK_NOTE =
  'the stored design could not be replayed, so this test re-draws the arm labels within the stored strata with their arm counts fixed, ' +
  "the territories of other arms held in their arm; the design's acceptance rule and forced territories are not applied";

/** A method's block without numbers (every number null), with the reason in `note`. */
export function emptyEstimate(method: string, note: string, status: MethodEstimate['status'] = 'insufficient_data'): MethodEstimate {
  return { method, status, estimate: null, ci_low: null, ci_high: null, se: null, df: null, p_value: null, note };
}

/**
 * A randomization test's block: the observed difference in means, the CI by test inversion (null
 * bounds when unbounded; the open side null for a half-line; with a note), the two-sided p and the smallest attainable p; an empty block
 * when an arm has no defined value. Source: Imbens & Rubin (2015), ch. 5.
 */
export function randomizationEstimate(method: string, ri: RandomizationTestResult): MethodEstimate & { min_attainable_p: number | null } {
  if (ri.status !== 'ok') return { ...emptyEstimate(method, 'an arm has no territory with a defined value'), min_attainable_p: null };
  const ci = ri.ci ?? null;
  let note = ci?.note ?? null;
  if (ci && ci.status === 'unbounded') {
    note =
      ci.low === null && ci.high === null
        ? 'CI unbounded: no constant effect is rejected because the smallest attainable p is at least α'
        : `CI unbounded on one side: ${ci.note}`;
  }
  if (!ri.design) note = note ? `${DESIGN_FALLBACK_NOTE}; ${note}` : DESIGN_FALLBACK_NOTE;
  return {
    method,
    status: 'ok',
    estimate: ri.observed,
    ci_low: ci?.low ?? null,
    ci_high: ci?.high ?? null,
    se: null,
    df: null,
    p_value: ri.p_two_sided,
    note,
    min_attainable_p: ri.min_attainable_p,
  };
}

/**
 * How a randomization test ran, for method labels: exact enumeration or B Monte Carlo draws, and the
 * design re-drawn, or that the stored design was not replayed (the fallback on the stored strata).
 */
export function randomizationMethodName(ri: RandomizationTestResult): string {
  const design = ri.design ? `, ${DESIGN_TYPE_LABELS[ri.design.type as DesignType] ?? ri.design.type} design re-drawn` : ', stored design not replayed: re-drawn within the stored strata';
  return `randomization inference (${ri.method === 'exact' ? 'exact enumeration' : `${ri.draws} Monte Carlo draws`}${design})`;
}

/**
 * A Welch t-test's block (Welch 1947): the difference in means, its (1 − α) CI, SE,
 * Welch–Satterthwaite df and two-sided p, in the unit of the values compared.
 */
export function welchEstimate(method: string, w: TTestResult, note: string | null): MethodEstimate {
  return {
    method,
    status: w.status,
    estimate: w.diff,
    ci_low: w.ci_low,
    ci_high: w.ci_high,
    se: w.se,
    df: w.df,
    p_value: w.p_two_sided,
    note,
  };
}
