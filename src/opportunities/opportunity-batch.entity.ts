import { Check, Column, Entity, Generated, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintTransformer } from '../common/database/transformers';

export type BatchStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

/** A batch of opportunity rows as received; its rows live in opportunity_batch_rows. */
// Keys, indexes and checks declared here so entities and migrations agree (migration drift check):
// without them `migration:generate` would drop the idempotency-key index and the seq sequence.
@Entity('opportunity_batches')
@Unique('uq_opportunity_batches_seq', ['seq'])
@Index('uq_opportunity_batches_idempotency_key', ['idempotencyKey'], { unique: true, where: 'idempotency_key IS NOT NULL' })
@Index('ix_opportunity_batches_status', ['status'])
@Check('ck_opportunity_batches_source', `source IN ('json', 'csv')`)
@Check('ck_opportunity_batches_status', `status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')`)
@Unique('uq_opportunity_batches_data_version', ['dataVersion'])
export class OpportunityBatchEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Arrival order; the tie-breaker of opportunity versions. */
  @Column({ type: 'bigint', transformer: bigintTransformer, insert: false, update: false })
  @Generated('increment')
  seq: number;

  @Column({ type: 'varchar', length: 8 })
  source: 'json' | 'csv';

  @Column({ type: 'varchar', length: 16 })
  status: BatchStatus;

  @Column({ type: 'varchar', length: 200, name: 'idempotency_key', nullable: true })
  idempotencyKey: string | null;

  @Column({ type: 'jsonb', name: 'column_mapping', nullable: true })
  columnMapping: Record<string, string> | null;

  @Column({ type: 'text', array: true, name: 'ignored_columns', default: () => `'{}'` })
  ignoredColumns: string[];

  /** SHA-256 of a JSON batch's rows, to tell a true replay of an Idempotency-Key from a conflicting one. */
  @Column({ type: 'char', length: 64, name: 'content_hash', nullable: true })
  contentHash: string | null;

  @Column({ type: 'integer', name: 'row_count', default: 0 })
  rowCount: number;

  @Column({ type: 'integer', name: 'rows_processed', default: 0 })
  rowsProcessed: number;

  @Column({ type: 'integer', name: 'rows_accepted', default: 0 })
  rowsAccepted: number;

  @Column({ type: 'integer', name: 'rows_rejected', default: 0 })
  rowsRejected: number;

  @Column({ type: 'integer', name: 'rows_inserted', default: 0 })
  rowsInserted: number;

  @Column({ type: 'integer', name: 'rows_updated', default: 0 })
  rowsUpdated: number;

  @Column({ type: 'integer', name: 'rows_unchanged', default: 0 })
  rowsUnchanged: number;

  /** Rows older than the stored version of their opportunity (ignored: newest version wins). */
  @Column({ type: 'integer', name: 'rows_stale', default: 0 })
  rowsStale: number;

  /**
   * The data version this batch's processing committed as (one sequence, assigned in commit
   * order under the ingest lock); null until completed. Reports record the version they read.
   */
  @Column({ type: 'bigint', name: 'data_version', nullable: true, transformer: bigintTransformer })
  dataVersion: number | null;

  /** How many list partitions (by a hash of opportunity_id) the batch's staging table has. */
  @Column({ type: 'integer', name: 'staging_chunks', default: 1 })
  stagingChunks: number;

  @Column({ type: 'integer', name: 'enqueue_attempts', default: 0 })
  enqueueAttempts: number;

  @Column({ type: 'timestamptz', name: 'enqueued_at', nullable: true })
  enqueuedAt: Date | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'timestamptz', name: 'received_at', default: () => 'now()' })
  receivedAt: Date;

  @Column({ type: 'timestamptz', name: 'started_at', nullable: true })
  startedAt: Date | null;

  @Column({ type: 'timestamptz', name: 'completed_at', nullable: true })
  completedAt: Date | null;
}
