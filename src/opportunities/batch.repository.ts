import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { OpportunityBatchEntity } from './opportunity-batch.entity';

/** Batch persistence: the batch row and its rejections (its rows are staged: staging.ts). */
@Injectable()
export class BatchRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, em?: EntityManager): Promise<OpportunityBatchEntity | null> {
    return (em ?? this.dataSource.manager).getRepository(OpportunityBatchEntity).findOne({ where: { id } });
  }

  findByIdempotencyKey(key: string): Promise<OpportunityBatchEntity | null> {
    return this.dataSource.getRepository(OpportunityBatchEntity).findOne({ where: { idempotencyKey: key } });
  }

  /** True when the batch was cancelled (read outside any transaction: the cancel is committed). */
  async isCancelled(batchId: string): Promise<boolean> {
    const rows: { status: string }[] = await this.dataSource.query(`SELECT status FROM opportunity_batches WHERE id = $1`, [batchId]);
    return rows[0]?.status === 'cancelled';
  }

  /** Rejected rows in row order, paged. */
  async findRejections(batchId: string, limit: number, offset: number): Promise<{ row_number: number; opportunity_id: string | null; reasons: string[] }[]> {
    return this.dataSource.query(
      `SELECT row_number, opportunity_id, reasons FROM opportunity_batch_rejections
        WHERE batch_id = $1 ORDER BY row_number LIMIT $2 OFFSET $3`,
      [batchId, limit, offset],
    );
  }

  /** Progress for the status endpoint; written outside the processing transaction so it is visible. */
  async setProgress(batchId: string, rowsProcessed: number): Promise<void> {
    await this.dataSource.query(`UPDATE opportunity_batches SET rows_processed = $2 WHERE id = $1 AND status = 'processing'`, [batchId, rowsProcessed]);
  }

  /**
   * Batches persisted but possibly not in Redis: queued with no successful enqueue (Redis was down
   * at upload), or queued/processing for longer than `staleMs` (Redis restarted and lost its jobs).
   * Re-enqueueing a batch that does have a live job is harmless: processing is idempotent.
   */
  findNeedingEnqueue(graceMs: number, staleMs: number): Promise<{ id: string }[]> {
    return this.dataSource.query(
      `SELECT id FROM opportunity_batches
        WHERE (status = 'queued' AND enqueued_at IS NULL AND received_at < now() - make_interval(secs => $1 / 1000.0))
           OR (status = 'queued' AND enqueued_at < now() - make_interval(secs => $2 / 1000.0))
           OR (status = 'processing' AND started_at < now() - make_interval(secs => $2 / 1000.0))
        ORDER BY seq LIMIT 100`,
      [graceMs, staleMs],
    );
  }

  async markEnqueued(batchId: string, ok: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE opportunity_batches SET enqueue_attempts = enqueue_attempts + 1, enqueued_at = CASE WHEN $2 THEN now() ELSE enqueued_at END WHERE id = $1`,
      [batchId, ok],
    );
  }
}
