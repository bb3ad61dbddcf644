import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer, decimalTransformer } from '../common/database/transformers';

export type OpportunityStatus = 'open' | 'won' | 'lost';

/**
 * The current version of a CRM opportunity. Written only by the ingestion job's set-based upsert
 * (opportunity.repository.ts); the newest version wins by (version_at, batch seq, row number).
 */
// Checks and index declared here so entities and migrations agree (migration drift check).
@Entity('opportunities')
@Index('ix_opportunities_territory_engage', ['territoryId', 'engageDate'])
@Check('ck_opportunities_status', `status IN ('open', 'won', 'lost')`)
@Check('ck_opportunities_close_date', `(status = 'open') = (close_date IS NULL)`)
@Check('ck_opportunities_closed_engaged', `status = 'open' OR engage_date IS NOT NULL`)
@Check('ck_opportunities_won_amount', `status <> 'won' OR amount IS NOT NULL`)
@Check('ck_opportunities_dates_ordered', `close_date IS NULL OR close_date >= engage_date`)
export class OpportunityEntity {
  @PrimaryColumn({ type: 'varchar', length: 128, name: 'opportunity_id' })
  opportunityId: string;

  /**
   * Must name an existing territory: checked once per statement by triggers, not by a foreign key
   * (its per-row checks made the ingestion INSERT ~1.5× as slow; migration 1765600000000).
   */
  @Column({ type: 'uuid', name: 'territory_id' })
  territoryId: string;

  /** The CRM's stage name, lower case (prospecting, engaging, won, lost, ...). */
  @Column({ type: 'varchar', length: 64 })
  stage: string;

  /** The rep who owns the deal in the CRM (optional); mapped to territories over time by owner_territories. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  owner: string | null;

  @Column({ type: 'varchar', length: 8 })
  status: OpportunityStatus;

  /** Currency units with cents; null when the CRM has no amount (open deals). */
  @Column({ type: 'numeric', precision: 16, scale: 2, nullable: true, transformer: decimalTransformer })
  amount: number | null;

  /**
   * ISO 4217 code of `amount`: the row's currency, else the default currency (DEFAULT_CURRENCY) at
   * ingestion. Null only on rows stored before migration 1766700000000 (never converted).
   */
  @Column({ type: 'char', length: 3, nullable: true })
  currency: string | null;

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

  /** The data version (batch commit order) that wrote this current version. */
  @Column({ type: 'bigint', name: 'data_version', default: 0, transformer: bigintTransformer })
  dataVersion: number;

  /** The batch that wrote this version (provenance; no foreign key: see migration 1765300000001). */
  @Column({ type: 'uuid', name: 'batch_id' })
  batchId: string;

  @Column({ type: 'timestamptz', name: 'ingested_at', default: () => 'now()' })
  ingestedAt: Date;
}
