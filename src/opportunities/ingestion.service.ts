import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TerritoryRepository } from '../territories/territory.repository';
import { BatchRepository } from './batch.repository';
import { parseOpportunityRow, RawOpportunityRow } from './ingestion/opportunity-row.parser';
import { OpportunityRepository, UpsertCounts, VersionedOpportunity } from './opportunity.repository';

const CHUNK = 2_000;

/** What one run of the ingestion job did. */
export interface IngestionOutcome {
  batch_id: string;
  skipped: boolean;
  accepted: number;
  rejected: number;
  counts: UpsertCounts;
}

/**
 * Validates a stored batch row by row and upserts the good rows, in ONE transaction together with
 * the rejections and the batch's final counts. The batch row is locked and its status checked
 * first, so a retried, duplicated or crashed-and-restarted job either finds the batch completed
 * (and does nothing) or redoes the whole batch from scratch: nothing is lost or counted twice.
 */
@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly batches: BatchRepository,
    private readonly opportunities: OpportunityRepository,
    private readonly territories: TerritoryRepository,
  ) {}

  /**
   * Processes batch `batchId`. Version of each row: (source_updated_at, or the batch's arrival
   * time when absent; batch sequence; row number), so the newest source version wins whatever the
   * arrival order, and a later row of the same batch supersedes an earlier one.
   * @param onProgress called with rows processed so far (for job progress)
   */
  async processBatch(batchId: string, onProgress?: (rows: number) => Promise<void>): Promise<IngestionOutcome> {
    await this.dataSource.query(
      `UPDATE opportunity_batches SET status = 'processing', started_at = coalesce(started_at, now()), rows_processed = 0
        WHERE id = $1 AND status IN ('queued', 'processing')`,
      [batchId],
    );
    return this.dataSource.transaction(async (em) => {
      // One processor per batch at a time. An advisory lock (not FOR UPDATE on the batch row) so the
      // progress updates written outside this transaction never wait on it.
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('opportunity_batch'), hashtext($1))`, [batchId]);
      const batch = await this.batches.findById(batchId, em);
      const empty = { inserted: 0, updated: 0, unchanged: 0, stale: 0 };
      if (!batch || batch.status === 'completed' || batch.status === 'failed') {
        return { batch_id: batchId, skipped: true, accepted: 0, rejected: 0, counts: empty };
      }
      const territoryIds = await this.territories.idsByCode(em);
      const totals: UpsertCounts = { ...empty };
      let accepted = 0;
      let rejected = 0;
      let after = 0;
      let staleInBatch = 0;
      for (;;) {
        const page = await this.batches.readRows(em, batchId, after, CHUNK);
        if (page.length === 0) break;
        after = page[page.length - 1].row_number;
        const good = new Map<string, VersionedOpportunity>();
        const bad: { row_number: number; opportunity_id: string | null; reasons: string[] }[] = [];
        for (const { row_number, raw } of page) {
          const outcome = parseOpportunityRow(raw as RawOpportunityRow, territoryIds);
          if (!outcome.ok) {
            bad.push({ row_number, opportunity_id: outcome.opportunity_id, reasons: outcome.reasons });
            continue;
          }
          accepted++;
          const candidate: VersionedOpportunity = {
            ...outcome.row,
            version_at: outcome.row.source_updated_at ?? batch.receivedAt,
            version_batch_seq: batch.seq,
            version_row: row_number,
            batch_id: batchId,
          };
          // Within a chunk, keep the row with the newest version (version_at, then row number), as
          // the upsert does across chunks and batches. Keeping simply the last row let an older
          // source version that came later in the file overwrite a newer one; such a row is stale.
          const held = good.get(candidate.opportunity_id);
          if (held && held.version_at.getTime() > candidate.version_at.getTime()) staleInBatch++;
          else good.set(candidate.opportunity_id, candidate);
        }
        rejected += bad.length;
        const counts = await this.opportunities.upsert(em, [...good.values()]);
        for (const k of Object.keys(totals) as (keyof UpsertCounts)[]) totals[k] += counts[k];
        await this.batches.insertRejections(em, batchId, bad);
        await this.batches.setProgress(batchId, accepted + rejected);
        await onProgress?.(accepted + rejected);
      }
      // Rows older than another row of the same id in their chunk never reached the upsert: stale.
      totals.stale += staleInBatch;
      // Rows superseded inside a chunk never reached the upsert: they count as unchanged.
      const superseded = accepted - (totals.inserted + totals.updated + totals.unchanged + totals.stale);
      totals.unchanged += superseded;
      await em.query(
        `UPDATE opportunity_batches SET status = 'completed', completed_at = now(), error = NULL,
                rows_processed = row_count, rows_accepted = $2, rows_rejected = $3, rows_inserted = $4,
                rows_updated = $5, rows_unchanged = $6, rows_stale = $7
          WHERE id = $1`,
        [batchId, accepted, rejected, totals.inserted, totals.updated, totals.unchanged, totals.stale],
      );
      this.logger.log(`batch ${batchId}: ${accepted} accepted, ${rejected} rejected, ${JSON.stringify(totals)}`);
      return { batch_id: batchId, skipped: false, accepted, rejected, counts: totals };
    });
  }

  /** Marks a batch failed after its job ran out of attempts (the reason is kept for the user). */
  async markFailed(batchId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE opportunity_batches SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status <> 'completed'`,
      [batchId, reason.slice(0, 2000)],
    );
  }
}
