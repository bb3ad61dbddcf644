import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintTransformer, decimalTransformer } from '../common/database/transformers';
import type { KpiKey } from '../kpis/kpi-catalogue';

/** The lifecycle (see src/governance/lifecycle.ts for the allowed transitions). */
export const PILOT_STATUSES = ['draft', 'in_review', 'approved', 'running', 'stopped', 'concluded', 'archived'] as const;
export type PilotStatus = (typeof PILOT_STATUSES)[number];
export type DesignType = 'complete' | 'stratified' | 'matched_pairs' | 'rerandomization' | 'chosen' | 'selected';

/** Few-treated designs (issue 12): no randomization, analysed with SDID against a donor pool. chosen: the user names the treated territories; selected: PilotLab picks k by placebo backtests. */
export function isFewTreatedDesign(type: string): type is 'chosen' | 'selected' {
  return type === 'chosen' || type === 'selected';
}

/** Design parameters beyond type, stratum variable and seed (src/stats/design/designs.ts). */
export interface DesignOptions {
  pair_on?: string;
  rerandomization?: { covariates: string[]; acceptance_probability: number; threshold_rule?: 'chi_square' | 'empirical' };
  constraints?: {
    force?: { territory_code: string; arm: string }[];
    exclude?: string[];
    max_treated_share?: { covariate: string; max_share: number };
  };
  max_draws?: number;
  /** chosen: the treated territory codes the user names (1–5; few-treated design, issue 12) */
  treated?: string[];
  /** selected: how many treated territories PilotLab picks (1–5) */
  k?: number;
  /** selected: the search and backtest settings (defaults: SELECTION_DEFAULTS in src/stats/synthetic/treated-selection.ts) */
  selection?: { candidates?: number; exhaustive_limit?: number; windows?: number; top?: number };
  /** the instant (ISO) the pre-period covariates are read as known at (docs/kpis.md, "As-of reports"); absent: the data at the draw */
  pre_period_as_of?: string;
}

/** Which territories may take part: by region, or an explicit list of codes. */
export interface Eligibility {
  regions?: string[];
  territory_codes?: string[];
}

/** One arm: `role` control or treatment; allocation by exact `count` or by `ratio`. */
export interface ArmSpec {
  key: string;
  role: 'control' | 'treatment';
  count?: number;
  ratio?: number;
}

/** A guardrail's non-inferiority margin: relative (fraction of the control mean) or absolute (KPI units). */
export interface GuardrailMargin {
  kpi: KpiKey;
  margin: number;
  type: 'relative' | 'absolute';
}

// Checks declared here so entities and migrations agree (migration drift check).
@Entity('pilots')
@Check('ck_pilots_status', `status IN ('draft', 'in_review', 'approved', 'running', 'stopped', 'concluded', 'archived')`)
@Check('ck_pilots_design', `design_type IN ('complete', 'stratified', 'matched_pairs', 'rerandomization', 'chosen', 'selected')`)
@Check('ck_pilots_pre_period', `pre_period_start <= pre_period_end`)
@Check('ck_pilots_test_period', `test_period_start <= test_period_end`)
@Check('ck_pilots_multiple_testing', `multiple_testing IN ('holm', 'bh')`)
@Check('ck_pilots_windows_disjoint', `pre_period_end < test_period_start`)
@Check('ck_pilots_alpha', `alpha > 0 AND alpha < 0.5`)
@Check('ck_pilots_seed', `seed >= 0`)
@Check('ck_pilots_monthly_cost', `monthly_cost >= 0`)
export class PilotEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'text' })
  hypothesis: string;

  @Column({ type: 'text', name: 'treatment_description' })
  treatmentDescription: string;

  @Column({ type: 'varchar', length: 16, default: 'draft' })
  status: PilotStatus;

  @Column({ type: 'jsonb' })
  eligibility: Eligibility;

  @Column({ type: 'jsonb' })
  arms: ArmSpec[];

  @Column({ type: 'varchar', length: 64, name: 'primary_kpi' })
  primaryKpi: KpiKey;

  @Column({ type: 'text', array: true, name: 'secondary_kpis', default: () => `'{}'` })
  secondaryKpis: KpiKey[];

  @Column({ type: 'text', array: true, name: 'guardrail_kpis', default: () => `'{}'` })
  guardrailKpis: KpiKey[];

  /** Calendar days, inclusive, `YYYY-MM-DD` (UTC). */
  @Column({ type: 'date', name: 'pre_period_start' })
  prePeriodStart: string;

  @Column({ type: 'date', name: 'pre_period_end' })
  prePeriodEnd: string;

  @Column({ type: 'date', name: 'test_period_start' })
  testPeriodStart: string;

  @Column({ type: 'date', name: 'test_period_end' })
  testPeriodEnd: string;

  @Column({ type: 'numeric', precision: 6, scale: 5, default: () => '0.05', transformer: decimalTransformer })
  alpha: number;

  @Column({ type: 'varchar', length: 16, name: 'design_type' })
  designType: DesignType;

  @Column({ type: 'varchar', length: 32, name: 'stratify_by', nullable: true })
  stratifyBy: 'region' | 'team' | null;

  /** Matched-pairs variable, rerandomization covariates, constraints, draw cap ({} for none). */
  @Column({ type: 'jsonb', name: 'design_options', default: () => `'{}'` })
  designOptions: DesignOptions;

  /** The seed the plan states (0 to 2^53 − 1), or null: the server draws a crypto-random seed at each draw (assignment_draws). */
  @Column({ type: 'bigint', nullable: true, transformer: bigintTransformer })
  seed: number | null;

  @Column({ type: 'timestamptz', name: 'launched_at', nullable: true })
  launchedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'stopped_at', nullable: true })
  stoppedAt: Date | null;

  /** The API key that created the pilot (its author, for separation of duties); null before keys existed. */
  @Column({ type: 'uuid', name: 'author_key_id', nullable: true })
  authorKeyId: string | null;

  /** Planned interim look dates (UTC calendar days inside the test period, ascending); part of the locked plan. */
  @Column({ type: 'text', array: true, name: 'interim_look_dates', default: () => `'{}'` })
  interimLookDates: string[];

  /** Version and SHA-256 of the locked analysis plan in force (null until approval). */
  @Column({ type: 'integer', name: 'plan_version', nullable: true })
  planVersion: number | null;

  @Column({ type: 'char', length: 64, name: 'plan_hash', nullable: true })
  planHash: string | null;

  @Column({ type: 'timestamptz', name: 'approved_at', nullable: true })
  approvedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'concluded_at', nullable: true })
  concludedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'archived_at', nullable: true })
  archivedAt: Date | null;

  /** Non-inferiority margins of guardrail KPIs (issue 3); null when none is stated. */
  @Column({ type: 'jsonb', name: 'guardrail_margins', nullable: true })
  guardrailMargins: GuardrailMargin[] | null;

  /** Adjustment of the secondary/guardrail family: 'holm' (default) or 'bh' (Benjamini–Hochberg). */
  @Column({ type: 'varchar', length: 8, name: 'multiple_testing', default: 'holm' })
  multipleTesting: 'holm' | 'bh';

  /** Cost per month of running the treatment in all treatment territories (currency of the amounts); null = not declared. */
  @Column({ type: 'numeric', precision: 16, scale: 2, name: 'monthly_cost', nullable: true, transformer: decimalTransformer })
  monthlyCost: number | null;

  /**
   * ISO 4217 currency of the pilot's amount KPIs (revenue won, average deal size, sales velocity)
   * and of `monthly_cost`; DEFAULT_CURRENCY unless given. Null on pilots created before migration
   * 1766700000000: amounts are then read as stored, unconverted (as before).
   */
  @Column({ type: 'char', length: 3, name: 'reporting_currency', nullable: true })
  reportingCurrency: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}
