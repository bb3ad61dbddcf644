import type { ReportGovernance } from '../governance/report-governance.service';
import type { KpiKey } from '../kpis/kpi-catalogue';
import type { WeeklyKpiSeries } from '../stats/weekly-series';
import type { CompletenessCheck } from '../stats/completeness';
import type { ExactCompletenessCheck } from '../stats/srm-exact';
import type { DesignAnalysesResult } from './comparison/design-analyses';
import type { VelocityDecompositionResult } from '../stats/velocity-decomposition';
import type { PrimaryMethod } from '../stats/primary-method';
import type { ReportDataContext } from '../kpis/kpi.service';
import type { FewTreatedResult } from '../stats/synthetic/few-treated';

/**
 * A chosen (few-treated) pilot's analysis of one KPI (reports/comparison/few-treated-kpi.ts): DiD, SC
 * and SDID with placebo SEs, CIs and p (one method: the placebo randomization test), permutation p with its
 * floor, donor weights, RMSPE, poor-fit flag, leave-one-donor-out range; SDID decides.
 */
export interface FewTreatedBlock {
  deciding_estimator: 'did' | 'sc' | 'sdid';
  /** the KPI's weekly unit (estimates are per treated territory-week) */
  unit: string;
  /** what the design can and cannot claim */
  claim: string;
  status: 'ok' | 'insufficient_data';
  note: string | null;
  /** the core's result (placebo gaps kept for the deciding estimator only); null when insufficient */
  result: FewTreatedResult | null;
}

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
/** Each KPI status in words, for text a reader sees (the codes stay in JSON bodies). */
export const KPI_STATUS_LABELS: Readonly<Record<KpiStatus, string>> = { ok: 'ok', insufficient_data: 'insufficient data', zero_variance: 'zero variance' };

/** An effect estimate of one method: treatment − control in the KPI's unit, (1 − α) CI, two-sided p. */
export interface MethodEstimate {
  /** the method that produced every number of this block */
  method: string;
  status: 'ok' | 'insufficient_data' | 'zero_variance' | 'not_applicable';
  estimate: number | null;
  ci_low: number | null;
  ci_high: number | null;
  se: number | null;
  df: number | null;
  p_value: number | null;
  /** why the block is empty or what to know about it */
  note: string | null;
}

/** One KPI's comparison of one treatment arm against control, every number labelled with its method. */
export interface KpiResult {
  kpi: KpiKey;
  label: string;
  unit: string;
  role: 'primary' | 'secondary' | 'guardrail';
  higher_is_better: boolean;
  /** the compared arms (several treatment arms give one result per arm and KPI) */
  treatment_arm: string;
  control_arm: string;
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
  /**
   * mean(treatment) / mean(control) − 1 (fraction); ci_low/ci_high are the interval named in `method`
   * (the default, RELATIVE_LIFT_DEFAULT_INTERVAL: the one that covered in the calibration bench, issue 16);
   * the delta-method, Fieller and log-ratio intervals beside it (optional in reports stored before issue 16)
   */
  relative_lift: {
    method: 'delta' | 'fieller' | 'log_ratio';
    status: 'ok' | 'insufficient_data' | 'baseline_not_positive' | 'zero_variance';
    estimate: number | null;
    ci_low: number | null;
    ci_high: number | null;
    delta?: { ci_low: number | null; ci_high: number | null };
    fieller: { bounded: boolean | null; shape?: 'interval' | 'disjoint' | 'half_line' | 'whole_line' | null; ci_low: number | null; ci_high: number | null };
    log_ratio?: { ci_low: number | null; ci_high: number | null };
    /** why the bounds are null (e.g. both arms constant: SE 0), in words; null when status is 'ok' */
    note: string | null;
  };
  /** Fisher randomization test of the difference in means, re-drawing from the pilot's design */
  randomization: {
    method: 'exact' | 'monte_carlo' | null;
    statistic: 'difference_in_means';
    p_value: number | null;
    n_assignments: number | null;
    draws: number | null;
    min_attainable_p: number | null;
    /** CI by inverting the test over constant additive effects (null when not computed or undefined) */
    ci_low?: number | null;
    ci_high?: number | null;
    /** the design re-drawn from (type, strata, acceptance rule) when the design-aware test ran */
    design?: string | null;
    /** when the stored design could not be replayed: what the test re-drew from instead, in words */
    note?: string | null;
  };
  /** the pre-period KPI as covariate: how many territories lack it and how that was handled */
  pre_period: {
    n_missing: number;
    /** CUPED drops them; Lin's regression mean-imputes X and adds a missingness indicator (never 0) */
    handling: string;
  } | null;
  /** every analysis of this KPI, each a labelled estimate (null = not computed for this KPI/design) */
  methods: {
    /** Welch t on the CUPED-adjusted KPI (pooled θ, θ treated as known) */
    cuped: (MethodEstimate & { theta: number | null; variance_reduction: number | null }) | null;
    /** Lin's interacted OLS, HC2, n − k df */
    regression_adjustment: MethodEstimate | null;
    /** randomization inference on the CUPED-adjusted KPI, re-drawing from the design, CI by test inversion */
    randomization_cuped: (MethodEstimate & { min_attainable_p: number | null }) | null;
    /** per-territory change (test − pre-period) compared across arms by Welch */
    change_score: MethodEstimate | null;
    /** OLS on the territory × ISO-week panel with CR2 errors and Bell–McCaffrey df (additive KPIs, per territory-week) */
    did_panel: (MethodEstimate & { unit: string; weeks_pre: number; weeks_test: number }) | null;
    /** matched-pairs designs: paired t and Wilcoxon signed-rank on the pair differences */
    paired_t: MethodEstimate | null;
    wilcoxon_signed_rank: (MethodEstimate & { p_method: string | null }) | null;
  };
  /**
   * The design's own analyses (design_consistent rows), Welch as a labelled naive comparison on
   * paired and rerandomized designs, the panel DiD (pair/stratum fixed effects) through every
   * few-cluster method with the territory diagnostics, and the fragile flag (design-analyses.ts).
   * Robustness only: `primary` decides. Absent when the design type is unknown.
   */
  design_analyses?: DesignAnalysesResult | null;
  /** chosen (few-treated) designs: DiD, SC and SDID on the weekly panel; SDID decides (absent for randomized designs) */
  few_treated?: FewTreatedBlock | null;
  /** guardrail with a stated margin: one-sided non-inferiority test (Welch-type) */
  non_inferiority: {
    method: 'non_inferiority_welch';
    margin: number;
    margin_type: 'relative' | 'absolute';
    p_value: number | null;
    /** adjusted over the guardrails with margins (pilot's multiple-testing method) */
    adjusted_p: number | null;
    lower_bound: number | null;
    non_inferior: boolean | null;
    status: string;
  } | null;
  /** the numbers of the recommended primary method (the decision uses them) */
  primary: MethodEstimate;
  /** adjusted p over the family (secondary and guardrail KPIs; the primary KPI across treatment arms) */
  adjusted: {
    method: 'holm' | 'bh';
    welch_p: number | null;
    randomization_p: number | null;
    primary_p: number | null;
    /**
     * Holm: the primary method's interval at the level that agrees with the Holm decision
     * (holm-intervals.ts): it excludes 0 exactly when the Holm-adjusted p is below α. Null for
     * Benjamini–Hochberg (no interval matches an FDR decision) or when it could not be computed.
     */
    interval?: { method: 'holm_consistent'; conf_level: number; ci_low: number | null; ci_high: number | null; note: string } | null;
  } | null;
  /** the primary method's CI at the extra levels asked for (secondary/guardrail KPIs), for `adjusted.interval` */
  primary_intervals?: { alpha: number; ci_low: number | null; ci_high: number | null }[] | null;
  /** the decision p: the primary method's p (adjusted when in a family) */
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
  /** the same KPIs over the pre-period (absent in reports computed before they were stored) */
  pre_period_kpis?: Record<KpiKey, number | null>;
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
    /** declared cost per month of the treatment in all treatment territories (currency); null = none */
    monthly_cost?: number | null;
    pre_period: { start: string; end: string };
    test_period: { start: string; end: string };
  };
  design: {
    type: string;
    stratify_by: string | null;
    seed: number;
    /**
     * every draw of the assignment, first first (number, seed, seed_source 'plan' | 'server',
     * reason of a redraw, drawn_at ISO instant); absent in reports stored before draws were recorded
     */
    draws?: { number: number; seed: number; seed_source: 'server' | 'plan'; reason: string | null; drawn_at: string }[];
    algorithm_version: string;
    inputs_hash: string;
    strata: { stratum: string; n: number; counts: Record<string, number> }[];
    /**
     * chosen (few-treated) design: the stored donor pool (donors, and the eligible territories left
     * out with reason 'excluded' | 'reserved' | 'incomplete_pre_period' and a detail); absent for
     * randomized designs and for reports stored before it was recorded
     */
    donor_pool?: ReportDonorPool;
  };
  generated_at: string;
  /** false while the test period is still running: the report is then an uncorrected interim look */
  readout: { test_period_complete: boolean; note: string | null };
  data_cutoff: { ingested_at: string | null; latest_activity_date: string | null; opportunities: number };
  /** The data the report read (data version, as-of cut-off, attribution date, KPI source) and the contamination per arm. */
  data?: ReportDataContext;
  decision_method: string;
  multiplicity: string;
  /** control and the first treatment arm (compatibility); `treatments` lists every treatment arm */
  arms: { control: string; treatment: string; treatments: string[] };
  /** the recommended primary method, chosen from the design, that decides every KPI */
  primary_method: PrimaryMethod;
  /** adjustment of the secondary/guardrail family (and of several treatment arms) */
  multiple_testing: 'holm' | 'bh';
  /** per treatment arm: why pooled sales velocity moved (log-lifts of its components with CIs) */
  velocity_decomposition: (VelocityDecompositionResult & { treatment_arm: string; control_arm: string })[];
  /** time to close with censoring: Kaplan–Meier per arm (deals engaged in the test period, open deals censored at the cut-off), log-rank per treatment arm */
  sales_cycle_survival: {
    method: string;
    cutoff: string;
    arms: { arm: string; n: number; events: number; censored: number; median_days: number | null; median_ci_low: number | null; median_ci_high: number | null }[];
    log_rank: { treatment_arm: string; control_arm: string; chi2: number | null; p_value: number | null; status: string }[];
  };
  /** data completeness: territories reporting and opportunities per arm vs design and pre-period, chi-square flagged at p < 0.001 */
  data_completeness: {
    state: 'ok' | 'mismatch' | 'too_little_data';
    arms: { arm: string; designed_territories: number; territories_reporting: number; opportunities_test: number; opportunities_pre: number }[];
    /** exact binomial/multinomial tests at pilot size (chi-square when the counts are large) */
    checks: (CompletenessCheck | ExactCompletenessCheck)[];
  };
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
  /** the primary KPI week by week per arm, pre-period and test period (for the HTML report's chart) */
  weekly_primary_kpi?: WeeklyKpiSeries<KpiKey>;
  /** governance: the locked analysis plan in force (version, SHA-256 hash) and its approved amendments with reasons */
  plan?: ReportGovernance['plan'];
  /** governance: scheduled interim looks with O'Brien–Fleming boundaries; null when the pilot plans none */
  sequential?: ReportGovernance['sequential'];
}

/** The donor pool of a chosen design as the report carries it (the stored assignment's `design.donor_pool`). */
export interface ReportDonorPool {
  donors: string[];
  left_out: { code: string; reason: 'excluded' | 'reserved' | 'incomplete_pre_period'; detail: string; pilots?: { pilot_id: string; name: string }[]; missing_weeks?: string[] }[];
  rules: string;
}
