import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer, decimalTransformer } from '../database/transformers';

export type OpportunityStatus = 'open' | 'won' | 'lost';

/**
 * The current version of a CRM opportunity. Written only by the ingestion job's set-based upsert
 * (opportunity.repository.ts); the newest version wins by (version_at, batch seq, row number).
 */
@Entity('opportunities')
export class OpportunityEntity {
  @PrimaryColumn({ type: 'varchar', length: 128, name: 'opportunity_id' })
  opportunityId: string;

  @Column({ type: 'uuid', name: 'territory_id' })
  territoryId: string;

  /** The CRM's stage name, lower case (prospecting, engaging, won, lost, ...). */
  @Column({ type: 'varchar', length: 64 })
  stage: string;

  @Column({ type: 'varchar', length: 8 })
  status: OpportunityStatus;

  /** Currency units with cents; null when the CRM has no amount (open deals). */
  @Column({ type: 'numeric', precision: 16, scale: 2, nullable: true, transformer: decimalTransformer })
  amount: number | null;

  @Column({ type: 'date', name: 'engage_date', nullable: true })
  engageDate: string | null;

  @Column({ type: 'date', name: 'close_date', nullable: true })
  closeDate: string | null;

  @Column({ type: 'timestamptz', name: 'created_at_source', nullable: true })
  createdAtSource: Date | null;

  @Column({ type: 'timestamptz', name: 'source_updated_at', nullable: true })
  sourceUpdatedAt: Date | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  product: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  account: string | null;

  @Column({ type: 'timestamptz', name: 'version_at' })
  versionAt: Date;

  @Column({ type: 'bigint', name: 'version_batch_seq', transformer: bigintTransformer })
  versionBatchSeq: number;

  @Column({ type: 'integer', name: 'version_row' })
  versionRow: number;

  @Column({ type: 'uuid', name: 'batch_id' })
  batchId: string;

  @Column({ type: 'timestamptz', name: 'ingested_at', default: () => 'now()' })
  ingestedAt: Date;
}
