import type { KpiKey } from '../kpis/kpi-catalogue';

/** Summary of one arm's territory values for one KPI. */
export interface ArmSummary {
  arm: string;
  /** territories in the arm with a defined value */
  n_territories: number;
  /** territories in the arm whose value is undefined (e.g. win rate with no closed deal) */
  n_missing: number;
  mean: number | null;
  /** sample standard deviation (n − 1) */
  sd: number | null;
}

export type KpiStatus = 'ok' | 'insufficient_data' | 'zero_variance';

/** One KPI's comparison of treatment against control, every number labelled with its method. */
export interface KpiResult {
  kpi: KpiKey;
  label: string;
  unit: string;
  role: 'primary' | 'secondary' | 'guardrail';
  higher_is_better: boolean;
  status: KpiStatus;
  status_reason: string | null;
  control: ArmSummary;
  treatment: ArmSummary;
  /** mean(treatment) − mean(control): Welch t-test, Welch–Satterthwaite df, t quantile CI */
  difference: {
    method: 'welch_t';
    estimate: number | null;
    ci_low: number | null;
    ci_high: number | null;
    conf_level: number;
    se: number | null;
    t: number | null;
    df: number | null;
    p_value: number | null;
  };
  /** mean(treatment) / mean(control) − 1 (fraction), delta-method CI; Fieller CI beside it */
  relative_lift: {
    method: 'delta';
    status: 'ok' | 'insufficient_data' | 'baseline_not_positive';
    estimate: number | null;
    ci_low: number | null;
    ci_high: number | null;
    fieller: { bounded: boolean | null; ci_low: number | null; ci_high: number | null };
  };
  /** Fisher randomization test of the difference in means, re-drawing from the pilot's design */
  randomization: {
    method: 'exact' | 'monte_carlo' | null;
    statistic: 'difference_in_means';
    p_value: number | null;
    n_assignments: number | null;
    draws: number | null;
    min_attainable_p: number | null;
  };
  /** Holm-adjusted p over the secondary and guardrail KPIs; null for the primary KPI */
  adjusted: { method: 'holm'; welch_p: number | null; randomization_p: number | null } | null;
  /** the decision p: randomization p (Holm-adjusted for secondary and guardrail KPIs) */
  decision_p: number | null;
  significant: boolean | null;
  verdict: string;
}

/** A territory's KPI values in the test period and its open deals now. */
export interface TerritoryRow {
  territory_code: string;
  arm: string;
  stratum: string;
  kpis: Record<KpiKey, number | null>;
  open_now: number;
}

/** The stored result of an analysis job. */
export interface PilotReport {
  report_id: string;
  pilot: {
    id: string;
    name: string;
    hypothesis: string;
    treatment_description: string;
    status: string;
    primary_kpi: KpiKey;
    alpha: number;
    pre_period: { start: string; end: string };
    test_period: { start: string; end: string };
  };
  design: {
    type: string;
    stratify_by: string | null;
    seed: number;
    algorithm_version: string;
    inputs_hash: string;
    strata: { stratum: string; n: number; counts: Record<string, number> }[];
  };
  generated_at: string;
  /** false while the test period is still running: the report is then an uncorrected interim look */
  readout: { test_period_complete: boolean; note: string | null };
  data_cutoff: { ingested_at: string | null; latest_activity_date: string | null; opportunities: number };
  decision_method: string;
  multiplicity: string;
  arms: { control: string; treatment: string };
  completeness: {
    control: { territories: number; territories_with_opportunities: number };
    treatment: { territories: number; territories_with_opportunities: number };
  };
  open_opportunities: {
    control: { open_at_test_end: number; open_now: number };
    treatment: { open_at_test_end: number; open_now: number };
  };
  kpis: KpiResult[];
  territories: TerritoryRow[];
}
