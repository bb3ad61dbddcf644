import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Few-treated pilots (issue 12): `design_type = 'selected'`, PilotLab picks k treated territories by
 * placebo backtests (pilots.design_options.k / .selection; the choice and the ranked candidates live in
 * assignments.design). Only the check constraint changes.
 */
export class SelectedDesign1766800000000 implements MigrationInterface {
  name = 'SelectedDesign1766800000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_design`);
    await q.query(
      `ALTER TABLE pilots ADD CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified', 'matched_pairs', 'rerandomization', 'chosen', 'selected'))`,
    );
  }

  /** Refuses, before changing anything, while pilots use the selected design (as ChosenDesign's down). */
  public async down(q: QueryRunner): Promise<void> {
    const [{ n }] = await q.query(`SELECT count(*)::int AS n FROM pilots WHERE design_type = 'selected'`);
    if (n > 0) throw new Error(`cannot revert SelectedDesign1766800000000: ${n} pilot(s) use design_type 'selected'; archive or delete them first`);
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_design`);
    await q.query(
      `ALTER TABLE pilots ADD CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified', 'matched_pairs', 'rerandomization', 'chosen'))`,
    );
  }
}
