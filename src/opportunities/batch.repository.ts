import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { OpportunityBatchEntity } from './opportunity-batch.entity';

/** Batch persistence: the batch row, its stored rows and its rejections. */
@Injectable()
export class BatchRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, em?: EntityManager): Promise<OpportunityBatchEntity | null> {
    return (em ?? this.dataSource.manager).getRepository(OpportunityBatchEntity).findOne({ where: { id } });
  }

  findByIdempotencyKey(key: string): Promise<OpportunityBatchEntity | null> {
    return this.dataSource.getRepository(OpportunityBatchEntity).findOne({ where: { idempotencyKey: key } });
  }

  /** Stores raw rows (already in canonical field names) under consecutive row numbers. */
  async insertRows(em: EntityManager, batchId: string, firstRowNumber: number, rows: unknown[]): Promise<void> {
    if (rows.length === 0) return;
    const numbers = rows.map((_, i) => firstRowNumber + i);
    await em.query(
      `INSERT INTO opportunity_batch_rows (batch_id, row_number, raw)
       SELECT $1, n, r FROM unnest($2::int[], $3::jsonb[]) AS x(n, r)`,
      [batchId, numbers, rows.map((r) => JSON.stringify(r))],
    );
  }

  /** A page of stored rows after `afterRow`, in row order (keyset paging). */
  readRows(em: EntityManager, batchId: string, afterRow: number, limit: number): Promise<{ row_number: number; raw: Record<string, unknown> }[]> {
    return em.query(
      `SELECT row_number, raw FROM opportunity_batch_rows WHERE batch_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3`,
      [batchId, afterRow, limit],
    );
  }

  async insertRejections(em: EntityManager, batchId: string, rejections: { row_number: number; opportunity_id: string | null; reasons: string[] }[]): Promise<void> {
    if (rejections.length === 0) return;
    await em.query(
      `INSERT INTO opportunity_batch_rejections (batch_id, row_number, opportunity_id, reasons)
       SELECT $1, n, o, ARRAY(SELECT jsonb_array_elements_text(r))
         FROM unnest($2::int[], $3::varchar[], $4::jsonb[]) AS x(n, o, r)
       ON CONFLICT (batch_id, row_number) DO UPDATE SET reasons = EXCLUDED.reasons, opportunity_id = EXCLUDED.opportunity_id`,
      [batchId, rejections.map((r) => r.row_number), rejections.map((r) => r.opportunity_id), rejections.map((r) => JSON.stringify(r.reasons))],
    );
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
