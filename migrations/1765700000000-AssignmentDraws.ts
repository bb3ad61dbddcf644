import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Seed shopping (issue 15): every draw of a pilot's assignment is recorded in `assignment_draws`
 * (draw number, seed, where the seed came from, the reason of a redraw, the key that drew it, when),
 * and the pilot's seed becomes optional: `pilots.seed` is the seed the plan states (NULL = the
 * server draws a crypto-random one at each draw). Existing assignments become draw 1 with the
 * plan's seed (before this migration every seed was stated by the pilot).
 */
export class AssignmentDraws1765700000000 implements MigrationInterface {
  name = 'AssignmentDraws1765700000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots ALTER COLUMN seed DROP NOT NULL`);
    await q.query(`
      CREATE TABLE assignment_draws (
        id bigserial PRIMARY KEY,
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        draw_number integer NOT NULL,
        seed bigint NOT NULL,
        seed_source varchar(8) NOT NULL,
        reason text,
        actor_key_id uuid REFERENCES api_keys (id),
        drawn_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_assignment_draws_number UNIQUE (pilot_id, draw_number),
        CONSTRAINT ck_assignment_draws_number CHECK (draw_number >= 1),
        CONSTRAINT ck_assignment_draws_seed CHECK (seed >= 0 AND seed <= 9007199254740991),
        CONSTRAINT ck_assignment_draws_source CHECK (seed_source IN ('server', 'plan')),
        CONSTRAINT ck_assignment_draws_reason CHECK (draw_number = 1 OR length(btrim(reason)) > 0)
      )`);
    await q.query(`
      INSERT INTO assignment_draws (pilot_id, draw_number, seed, seed_source, reason, drawn_at)
      SELECT pilot_id, 1, seed, 'plan', NULL, created_at FROM assignments`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE assignment_draws`);
    await q.query(`UPDATE pilots p SET seed = coalesce((SELECT a.seed FROM assignments a WHERE a.pilot_id = p.id), 0) WHERE p.seed IS NULL`);
    await q.query(`ALTER TABLE pilots ALTER COLUMN seed SET NOT NULL`);
  }
}
