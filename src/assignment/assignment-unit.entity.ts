import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AssignmentEntity } from './assignment.entity';

/** One territory's arm in an assignment, with the stratum and covariates it was drawn with. */
@Entity('assignment_units')
export class AssignmentUnitEntity {
  @PrimaryColumn({ type: 'uuid', name: 'assignment_id' })
  assignmentId: string;

  @PrimaryColumn({ type: 'uuid', name: 'territory_id' })
  territoryId: string;

  @Column({ type: 'varchar', length: 128, name: 'territory_code' })
  territoryCode: string;

  @Column({ type: 'varchar', length: 32 })
  arm: string;

  @Column({ type: 'varchar', length: 128 })
  stratum: string;

  @Column({ type: 'jsonb' })
  covariates: Record<string, number | null>;

  @ManyToOne(() => AssignmentEntity, (a) => a.units, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'assignment_id' })
  assignment: AssignmentEntity;
}
