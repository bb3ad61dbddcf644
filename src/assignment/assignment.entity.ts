import { Column, CreateDateColumn, Entity, ForeignKey, OneToMany, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { PilotEntity } from '../pilots/pilot.entity';
import { bigintTransformer } from '../database/transformers';
import { AssignmentUnitEntity } from './assignment-unit.entity';

/** What is needed to replay an assignment: seed, PRNG, algorithm version, inputs hash, design. */
export interface StoredDesign {
  type: 'complete' | 'stratified';
  stratify_by: string | null;
  arms: { key: string; role: 'control' | 'treatment'; count: number }[];
  strata: { stratum: string; n: number; counts: Record<string, number> }[];
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
