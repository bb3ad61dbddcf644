import { Column, CreateDateColumn, Entity, ForeignKey, OneToMany, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { DesignDraw, MatchedBlock, RerandomizationRecord } from '../stats/design/designs';
import type { TreatedSelectionResult } from '../stats/synthetic/treated-selection';
import { DesignOptions, DesignType, PilotEntity } from '../pilots/pilot.entity';
import { bigintTransformer } from '../common/database/transformers';
import { AssignmentUnitEntity } from './assignment-unit.entity';

/**
 * What is needed to replay an assignment (with seed, PRNG and algorithm version on the row and the
 * units' strata and covariates in assignment_units), and what analyses need to know about it.
 * Fields after `strata` are present only when the design uses them.
 */
export interface StoredDesign {
  type: DesignType;
  stratify_by: string | null;
  /** arms with their exact counts (matched pairs: the number of blocks) */
  arms: { key: string; role: 'control' | 'treatment'; count: number }[];
  /** per stratum (matched pairs: per pair; complete: 'all') the number of territories per arm */
  strata: { stratum: string; n: number; counts: Record<string, number> }[];
  /** requested design parameters (as on the pilot) */
  pair_on?: string;
  rerandomization?: { covariates: string[]; acceptance_probability: number; threshold_rule?: 'chi_square' | 'empirical' };
  constraints?: DesignOptions['constraints'];
  max_draws?: number;
  /** matched pairs: the blocks, sorted by the pairing value; each unit's stratum is its pair id */
  pairs?: MatchedBlock[];
  /** rerandomization: covariates used, df, threshold a and the accepted M */
  rerandomization_record?: RerandomizationRecord;
  /** constraints as realised (forced codes, excluded codes, realised treated share) */
  constraints_realised?: DesignDraw['constraints'];
  /** eligible territories not assigned: excluded, or the odd one(s) out of matched pairs (with covariates, for replay) */
  left_out?: { code: string; reason: 'excluded' | 'odd_one_out'; covariates?: Record<string, number | null> }[];
  /** acceptance loop: draws tried until the accepted one, and accepted (1) */
  draws_tried?: number;
  draws_accepted?: number;
  /** chosen (few-treated, no randomization): the treated territories the user named */
  treated?: string[];
  /** chosen: the donor-pool rules' outcome: donors and the eligible territories left out, with why */
  donor_pool?: {
    donors: string[];
    left_out: { code: string; reason: 'excluded' | 'reserved' | 'incomplete_pre_period'; detail: string; pilots?: { pilot_id: string; name: string }[]; missing_weeks?: string[] }[];
    pre_weeks: number;
    min_pre_weeks: number;
    rules: string;
  };
  /** selected: the treated-set size PilotLab picked */
  k?: number;
  /** selected: the selection's inputs (enough to replay it) and its result (the ranked candidates; rank 1 is `treated`) */
  selection?: StoredSelection;
}

/** What a selected design stores about its selection (src/assignment/selected-design.ts). */
export interface StoredSelection {
  /** the settings as requested on the pilot (design.selection) */
  settings: { candidates?: number; exhaustive_limit?: number; windows?: number; top?: number };
  /** the planned test length in weeks (caps the backtest window length) */
  test_weeks: number;
  /** the backtested panel: the primary KPI per pool territory and pre-period week */
  panel: { kpi: string; weeks: string[]; values: Record<string, number[]> };
  forced: string[];
  never_treated: string[];
  /** the capped quantity per pool territory (null without a cap) */
  cap: { covariate: string; max_share: number; values: Record<string, number> } | null;
  result: TreatedSelectionResult;
}

// Key and foreign key declared here so entities and migrations agree (migration drift check).
@Entity('assignments')
@Unique('uq_assignments_pilot', ['pilotId'])
export class AssignmentEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'uuid', name: 'pilot_id' })
  @ForeignKey(() => PilotEntity, { name: 'assignments_pilot_id_fkey', onDelete: 'CASCADE' })
  pilotId: string;

  @Column({ type: 'bigint', transformer: bigintTransformer })
  seed: number;

  @Column({ type: 'varchar', length: 128, name: 'prng_algorithm' })
  prngAlgorithm: string;

  @Column({ type: 'varchar', length: 128, name: 'algorithm_version' })
  algorithmVersion: string;

  @Column({ type: 'char', length: 64, name: 'inputs_hash' })
  inputsHash: string;

  @Column({ type: 'jsonb' })
  design: StoredDesign;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @OneToMany(() => AssignmentUnitEntity, (u) => u.assignment)
  units: AssignmentUnitEntity[];
}
