import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Designs and power planning (issue 3): two more design types (matched_pairs, rerandomization), the
 * pilot's design parameters (`design_options`: pairing variable, rerandomization covariates,
 * constraints, draw cap), and `power_analyses`, one row per power/MDE request with its analytic part,
 * its simulation part (written by the `power` job) and the job's progress.
 */
export class DesignsAndPower1765200000000 implements MigrationInterface {
  name = 'DesignsAndPower1765200000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_design`);
    await q.query(
      `ALTER TABLE pilots ADD CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified', 'matched_pairs', 'rerandomization'))`,
    );
    await q.query(`ALTER TABLE pilots ADD COLUMN design_options jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`
      CREATE TABLE power_analyses (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pilot_id uuid NOT NULL,
        status varchar(16) NOT NULL,
        request jsonb NOT NULL,
        analytic jsonb,
        simulation jsonb,
        simulations_total integer NOT NULL,
        simulations_done integer NOT NULL DEFAULT 0,
        requested_at timestamptz NOT NULL DEFAULT now(),
        enqueued_at timestamptz,
        started_at timestamptz,
        completed_at timestamptz,
        error text,
        CONSTRAINT power_analyses_pilot_id_fkey FOREIGN KEY (pilot_id) REFERENCES pilots (id) ON DELETE CASCADE,
        CONSTRAINT ck_power_analyses_status CHECK (status IN ('queued', 'running', 'completed', 'failed'))
      )`);
    await q.query(`CREATE INDEX ix_power_analyses_pilot ON power_analyses (pilot_id, requested_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS power_analyses`);
    await q.query(`ALTER TABLE pilots DROP COLUMN IF EXISTS design_options`);
    await q.query(`DELETE FROM pilots WHERE design_type NOT IN ('complete', 'stratified')`);
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_design`);
    await q.query(`ALTER TABLE pilots ADD CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified'))`);
  }
}
