import { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS =
  'opportunity_id, version_at, version_batch_seq, version_row, data_version, territory_id, owner, stage, status, amount, engage_date, close_date, created_at_source, source_updated_at, product, account, batch_id';

/**
 * `opportunity_versions` becomes the history of NON-current versions: the current version of each
 * opportunity lives only in `opportunities` (as in a system-versioned table with a history
 * table). Before, every accepted row was written twice, once in each table; for a new
 * opportunity (most rows of a first load) the second write was a full copy of the first, about a
 * quarter of the ingestion job's time (docs/performance.md). Nothing is lost: when a newer row
 * replaces the current one, the replaced row moves into `opportunity_versions` in the same
 * statement, so versions ∪ current still holds every accepted row exactly once.
 *
 * The view `opportunity_all_versions` is that union (what `opportunity_versions` used to hold);
 * as-of reports read it. Existing data: the copies of current rows are removed from the history.
 */
export class OpportunityHistoryWithoutCurrentVersion1765600000001 implements MigrationInterface {
  name = 'OpportunityHistoryWithoutCurrentVersion1765600000001';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM opportunity_versions v USING opportunities o
       WHERE v.opportunity_id = o.opportunity_id AND v.version_at = o.version_at
         AND v.version_batch_seq = o.version_batch_seq AND v.version_row = o.version_row`);
    await q.query(`
      CREATE VIEW opportunity_all_versions AS
      SELECT ${COLUMNS} FROM opportunity_versions
      UNION ALL
      SELECT ${COLUMNS} FROM opportunities`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW opportunity_all_versions`);
    await q.query(`INSERT INTO opportunity_versions (${COLUMNS}) SELECT ${COLUMNS} FROM opportunities`);
  }
}
