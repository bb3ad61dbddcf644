import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Analysis options of a pilot (issue 3): non-inferiority margins of the guardrail KPIs
 * (`[{kpi, margin, type}]`, null = none stated) and the multiple-testing adjustment of the
 * secondary/guardrail family ('holm' default, or 'bh' = Benjamini–Hochberg).
 */
export class AnalysisOptions1765100000000 implements MigrationInterface {
  name = 'AnalysisOptions1765100000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots ADD COLUMN guardrail_margins jsonb`);
    await q.query(`ALTER TABLE pilots ADD COLUMN multiple_testing varchar(8) NOT NULL DEFAULT 'holm'`);
    await q.query(`ALTER TABLE pilots ADD CONSTRAINT ck_pilots_multiple_testing CHECK (multiple_testing IN ('holm', 'bh'))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_multiple_testing`);
    await q.query(`ALTER TABLE pilots DROP COLUMN multiple_testing`);
    await q.query(`ALTER TABLE pilots DROP COLUMN guardrail_margins`);
  }
}
