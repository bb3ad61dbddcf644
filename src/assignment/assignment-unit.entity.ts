import { Column, Entity, ForeignKey, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TerritoryEntity } from '../territories/territory.entity';
import { AssignmentEntity } from './assignment.entity';

/** One territory's arm in an assignment, with the stratum and covariates it was drawn with. */
@Entity('assignment_units')
export class AssignmentUnitEntity {
  @PrimaryColumn({ type: 'uuid', name: 'assignment_id' })
  assignmentId: string;

  // Foreign keys named as in the migration so entities and migrations agree (migration drift check).
  @PrimaryColumn({ type: 'uuid', name: 'territory_id' })
  @ForeignKey(() => TerritoryEntity, { name: 'assignment_units_territory_id_fkey' })
  territoryId: string;

  @Column({ type: 'varchar', length: 128, name: 'territory_code' })
  territoryCode: string;

  @Column({ type: 'varchar', length: 32 })
  arm: string;

  @Column({ type: 'varchar', length: 128 })
  stratum: string;

  @Column({ type: 'jsonb', default: {} })
  covariates: Record<string, number | null>;

  @ManyToOne(() => AssignmentEntity, (a) => a.units, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'assignment_id', foreignKeyConstraintName: 'assignment_units_assignment_id_fkey' })
  assignment: AssignmentEntity;
}
