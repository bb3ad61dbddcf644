import { MigrationInterface, QueryRunner } from 'typeorm';
import { statusOfStage } from '../src/opportunities/ingestion/stage';

/**
 * The state of opportunities as known at an instant, rebuilt from their field histories in SQL
 * (issue 13), so as-of reports and the history endpoints read one definition
 * (docs/kpis.md, "Field history and the state as of a date"):
 * - `opportunity_field_history.new_status`: the deal status (open, won, lost) of a stage change's
 *   new value, written by the upload with the stage rule of ingestion/stage.ts (`statusOfStage`);
 *   existing rows are filled here with the same function;
 * - `opportunity_history_as_of(at)`: per opportunity with a change at or before `at`, each field's
 *   latest value then (same instant: the later upload, then the later row) and when it was set
 *   (null = no change of that field by `at`). Nothing for a null `at`. Inside a transaction that
 *   set `pilotlab.history_received_by` (set_config, local), only rows received by then count: a
 *   report pins the histories it read, so a recomputation reads the same ones;
 * - `reports.history_received_by`: that pin, stored with the report (null: no as-of).
 */
export class FieldHistoryAsOf1766820000000 implements MigrationInterface {
  name = 'FieldHistoryAsOf1766820000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE opportunity_field_history ADD COLUMN new_status varchar(8) CHECK (new_status IN ('open', 'won', 'lost'))`);
    const stages: { stage: string }[] = await q.query(`SELECT DISTINCT new_value AS stage FROM opportunity_field_history WHERE field = 'stage' AND new_value IS NOT NULL`);
    if (stages.length) {
      await q.query(
        `UPDATE opportunity_field_history h SET new_status = m.status
           FROM unnest($1::text[], $2::text[]) AS m(stage, status)
          WHERE h.field = 'stage' AND h.new_value = m.stage`,
        [stages.map((s) => s.stage), stages.map((s) => statusOfStage(s.stage))],
      );
    }
    await q.query(`
      CREATE FUNCTION opportunity_history_as_of(p_at timestamptz)
      RETURNS TABLE (opportunity_id varchar, stage text, status varchar, amount numeric(16,2), close_date date,
                     stage_at timestamptz, amount_at timestamptz, close_date_at timestamptz, known_since timestamptz)
      LANGUAGE sql STABLE AS $$
        SELECT l.opportunity_id,
               max(l.new_value) FILTER (WHERE l.field = 'stage'),
               max(l.new_status) FILTER (WHERE l.field = 'stage'),
               (max(l.new_value) FILTER (WHERE l.field = 'amount'))::numeric(16,2),
               (max(l.new_value) FILTER (WHERE l.field = 'close_date'))::date,
               max(l.changed_at) FILTER (WHERE l.field = 'stage'),
               max(l.changed_at) FILTER (WHERE l.field = 'amount'),
               max(l.changed_at) FILTER (WHERE l.field = 'close_date'),
               max(l.changed_at)
          FROM (SELECT DISTINCT ON (h.opportunity_id, h.field) h.opportunity_id, h.field, h.new_value, h.new_status, h.changed_at
                  FROM opportunity_field_history h
                 WHERE h.changed_at <= p_at
                   AND (nullif(current_setting('pilotlab.history_received_by', true), '') IS NULL
                        OR h.received_at <= nullif(current_setting('pilotlab.history_received_by', true), '')::timestamptz)
                 ORDER BY h.opportunity_id, h.field, h.changed_at DESC, h.received_at DESC, h.source_row DESC) l
         GROUP BY l.opportunity_id
      $$`);
    await q.query(`ALTER TABLE reports ADD COLUMN history_received_by timestamptz`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reports DROP COLUMN history_received_by`);
    await q.query(`DROP FUNCTION opportunity_history_as_of(timestamptz)`);
    await q.query(`ALTER TABLE opportunity_field_history DROP COLUMN new_status`);
  }
}
