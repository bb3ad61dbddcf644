import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/utils/canonical-json';
import type { KpiKey } from '../kpis/kpi-catalogue';
import type { PilotEntity } from '../pilots/pilot.entity';
import type { PlanDraw } from '../assignment/assignment-draws';
import { DEFAULT_FEW_CLUSTER_METHOD, FewClusterMethod } from '../stats/few-cluster-inference';

/**
 * The analysis plan frozen at approval: what will be tested, how, at which level, over which
 * windows and at which interim looks. Its SHA-256 over canonical JSON is the plan hash.
 */
export interface LockedPlan {
  primary_kpi: KpiKey;
  secondary_kpis: KpiKey[];
  guardrail_kpis: KpiKey[];
  /** non-inferiority margins of the guardrails when the pilot defines them (else null) */
  guardrail_margins: unknown;
  /**
   * covariates of the adjusted analysis: the pilot's own when it defines them, else
   * `['pre_period_kpi']` (each KPI's own pre-period value, CUPED / Lin) for adjusted methods, else []
   */
  covariates: unknown;
  /** the method that decides the primary KPI (src/stats/primary-method.ts, chosen at approval) */
  primary_method: string;
  /**
   * the few-cluster method that decides the weekly-panel DiD (src/stats/few-cluster-inference.ts);
   * the other methods are shown as robustness. Absent in plans locked before issue 14 (the report
   * then uses DEFAULT_FEW_CLUSTER_METHOD, the wild cluster restricted bootstrap).
   */
  few_cluster_method?: FewClusterMethod;
  /** adjustment of the secondary/guardrail family: 'holm' or 'bh' */
  multiple_testing: string;
  alpha: number;
  pre_period: { start: string; end: string };
  test_period: { start: string; end: string };
  interim_looks: string[];
  sequential_boundaries: 'lan_demets_obrien_fleming' | null;
  /**
   * every draw of the assignment before approval, first first (number, seed, seed_source, reason,
   * drawn_at): how many draws were made and with which seeds. Absent in plans locked before draws were recorded.
   */
  draws?: PlanDraw[];
}

/** Pilot fields outside the core columns that belong to the plan when present (added by other features). */
const OPTIONAL_FIELDS: { plan: 'guardrail_margins' | 'covariates'; entity: string[] }[] = [
  { plan: 'guardrail_margins', entity: ['guardrailMargins', 'guardrailMargin'] },
  { plan: 'covariates', entity: ['covariates', 'adjustmentCovariates'] },
];

/**
 * The plan of a pilot as it stands now. `primaryMethod` is the key of the method that will decide
 * the primary KPI (`recommendedPrimaryMethod(design type, territories)` at approval; amendments keep it).
 * `draws` are the assignment's recorded draws (at approval; amendments keep the locked ones); when
 * undefined the plan carries no `draws` field (plans locked before draws were recorded keep their hash).
 * `fewClusterMethod`: the panel's deciding few-cluster method (at approval `recommendedPanelMethod`, which passes
 * over methods the calibration grid flagged for the design and size; amendments keep the locked one).
 */
export function lockedPlanOf(p: PilotEntity, primaryMethod: string, draws?: PlanDraw[], fewClusterMethod: FewClusterMethod = DEFAULT_FEW_CLUSTER_METHOD): LockedPlan {
  const extra = p as unknown as Record<string, unknown>;
  const optional = Object.fromEntries(
    OPTIONAL_FIELDS.map(({ plan, entity }) => [plan, entity.map((k) => extra[k]).find((v) => v !== undefined && v !== null) ?? null]),
  ) as Pick<LockedPlan, 'guardrail_margins' | 'covariates'>;
  const looks = [...(p.interimLookDates ?? [])];
  return {
    primary_kpi: p.primaryKpi,
    secondary_kpis: [...p.secondaryKpis],
    guardrail_kpis: [...p.guardrailKpis],
    ...optional,
    covariates: optional.covariates ?? (/cuped|lin_regression/.test(primaryMethod) ? ['pre_period_kpi'] : []),
    primary_method: primaryMethod,
    few_cluster_method: fewClusterMethod,
    multiple_testing: typeof extra.multipleTesting === 'string' ? extra.multipleTesting : 'holm',
    alpha: Number(p.alpha),
    pre_period: { start: p.prePeriodStart, end: p.prePeriodEnd },
    test_period: { start: p.testPeriodStart, end: p.testPeriodEnd },
    interim_looks: looks,
    sequential_boundaries: looks.length ? 'lan_demets_obrien_fleming' : null,
    ...(draws ? { draws: draws.map((d) => ({ ...d })) } : {}),
  };
}

/** SHA-256 (hex) of the canonical JSON of a plan (key order irrelevant). */
export function planHash(plan: LockedPlan): string {
  return createHash('sha256').update(canonicalJson(plan), 'utf8').digest('hex');
}

/** The top-level plan fields whose values differ between two plans, with both values. */
export function planDiff(before: LockedPlan, after: LockedPlan): { field: string; before: unknown; after: unknown }[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => canonicalJson((before as unknown as Record<string, unknown>)[k]) !== canonicalJson((after as unknown as Record<string, unknown>)[k]))
    .map((k) => ({ field: k, before: (before as unknown as Record<string, unknown>)[k] ?? null, after: (after as unknown as Record<string, unknown>)[k] ?? null }));
}
