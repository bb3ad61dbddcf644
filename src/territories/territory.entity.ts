import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

/** A unit of randomization and analysis: a rep's book, a team, an office. */
// Declared here so entities and migrations agree (the ON CONFLICT (code) upsert needs the unique key).
@Entity('territories')
@Unique('uq_territories_code', ['code'])
@Index('ix_territories_region', ['region'])
@Check('ck_territories_attributes_object', `jsonb_typeof(attributes) = 'object'`)
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
  @Column({ type: 'jsonb', default: {} })
  attributes: Record<string, number>;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;
}
