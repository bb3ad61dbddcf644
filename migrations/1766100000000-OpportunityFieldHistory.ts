import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Field histories of opportunities (issue 13): one row per change of stage, amount or close date,
 * as Salesforce OpportunityFieldHistory / OpportunityHistory, HubSpot property history or our own
 * format bring them (src/opportunities/history/field-history.ts). Keyed by upload and row, so a
 * replayed upload is a second copy only if sent again under a new upload. No foreign key to
 * `opportunities`: a history may arrive before or without its opportunity.
 */
export class OpportunityFieldHistory1766100000000 implements MigrationInterface {
  name = 'OpportunityFieldHistory1766100000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE opportunity_field_history (
        upload_id uuid NOT NULL,
        source_row integer NOT NULL,
        field varchar(16) NOT NULL CHECK (field IN ('stage', 'amount', 'close_date')),
        opportunity_id varchar(128) NOT NULL,
        changed_at timestamptz NOT NULL,
        old_value text,
        new_value text,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (upload_id, source_row, field)
      )`);
    await q.query(`CREATE INDEX opportunity_field_history_opp ON opportunity_field_history (opportunity_id, changed_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE opportunity_field_history`);
  }
}
