import { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 13: batch warnings beside rejections (rows kept, but worth a look); see src/opportunities/batch-warnings.ts. */
export class OpportunityBatchWarnings1766000000000 implements MigrationInterface {
  name = 'OpportunityBatchWarnings1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE opportunity_batch_warnings (
        batch_id uuid NOT NULL REFERENCES opportunity_batches (id) ON DELETE CASCADE,
        row_number integer NOT NULL,
        kind varchar(32) NOT NULL,
        opportunity_id varchar(128),
        message text NOT NULL,
        PRIMARY KEY (batch_id, row_number, kind)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS opportunity_batch_warnings`);
  }
}
