import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Speed under load (issue 15): the HTML page of a completed report is rendered once (by the worker,
 * when it completes the report) and stored in `reports.html`; GET .html / Accept: text/html serve
 * it. NULL until then, and for reports completed before this migration (the API renders those once
 * on first read and stores the page).
 */
export class ReportHtml1765800000000 implements MigrationInterface {
  name = 'ReportHtml1765800000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reports ADD COLUMN html text`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reports DROP COLUMN html`);
  }
}
