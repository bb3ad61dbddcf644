import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The pilot's optional cost: `monthly_cost`, what running the treatment in all treatment
 * territories costs per month (e.g. the specialist headcount), in the currency of the opportunity
 * amounts. The HTML report sets it against the incremental revenue won (return on the pilot).
 */
export class PilotMonthlyCost1765500000000 implements MigrationInterface {
  name = 'PilotMonthlyCost1765500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots ADD COLUMN monthly_cost numeric(16,2)`);
    await q.query(`ALTER TABLE pilots ADD CONSTRAINT ck_pilots_monthly_cost CHECK (monthly_cost >= 0)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_monthly_cost`);
    await q.query(`ALTER TABLE pilots DROP COLUMN monthly_cost`);
  }
}
