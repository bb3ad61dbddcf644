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

  /**
   * Refuses (before changing anything) while pilots use the chosen design: the old constraint cannot
   * hold them, and deleting or re-typing a governed pilot is not a migration's call.
   */
  public async down(q: QueryRunner): Promise<void> {
    const [{ n }] = await q.query(`SELECT count(*)::int AS n FROM pilots WHERE design_type = 'chosen'`);
    if (n > 0) throw new Error(`cannot revert ChosenDesign1766600000000: ${n} pilot(s) use design_type 'chosen'; archive or delete them first`);
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_design`);
    await q.query(`ALTER TABLE pilots ADD CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified', 'matched_pairs', 'rerandomization'))`);
  }
}
