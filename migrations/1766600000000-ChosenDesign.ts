import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Few-treated pilots (issue 12): `design_type = 'chosen'`, the user names 1–5 treated territories
 * (pilots.design_options.treated) and every other eligible territory with complete pre-period data
 * is a donor. Only the check constraint changes; the treated list lives in the jsonb options.
 */
export class ChosenDesign1766600000000 implements MigrationInterface {
  name = 'ChosenDesign1766600000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_design`);
    await q.query(
      `ALTER TABLE pilots ADD CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified', 'matched_pairs', 'rerandomization', 'chosen'))`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_design`);
    await q.query(`ALTER TABLE pilots ADD CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified', 'matched_pairs', 'rerandomization'))`);
  }
}
