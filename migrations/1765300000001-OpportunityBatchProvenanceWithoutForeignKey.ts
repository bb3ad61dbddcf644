import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops the foreign key `opportunities.batch_id → opportunity_batches.id`. The ingestion job is
 * the only writer of `opportunities` and writes the id of the batch it is processing (locked, so
 * it exists), and batches are never deleted; the key only cost a per-row check (`FOR KEY SHARE`
 * on the very batch row the job is updating): about a third of the set-based upsert's time in
 * bench:ingest (docs/performance.md). `batch_id` stays as provenance; the territory key stays.
 */
export class OpportunityBatchProvenanceWithoutForeignKey1765300000001 implements MigrationInterface {
  name = 'OpportunityBatchProvenanceWithoutForeignKey1765300000001';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE opportunities DROP CONSTRAINT opportunities_batch_id_fkey`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE opportunities ADD CONSTRAINT opportunities_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES opportunity_batches (id)`);
  }
}
