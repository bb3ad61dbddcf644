import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A unit of randomization and analysis: a rep's book, a team, an office. */
@Entity('territories')
export class TerritoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 128 })
  code: string;

  @Column({ type: 'varchar', length: 256 })
  name: string;

  @Column({ type: 'varchar', length: 128 })
  region: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  team: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  manager: string | null;

  /** Numeric covariates by name (e.g. headcount, quota, pre-period revenue). */
  @Column({ type: 'jsonb', default: () => `'{}'::jsonb` })
  attributes: Record<string, number>;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}
