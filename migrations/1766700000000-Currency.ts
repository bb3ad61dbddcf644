import { MigrationInterface, QueryRunner } from 'typeorm';

const VERSION_COLUMNS =
  'opportunity_id, version_at, version_batch_seq, version_row, data_version, territory_id, owner, stage, status, amount, engage_date, close_date, created_at_source, source_updated_at, product, account, batch_id';

/**
 * Currencies (issue 13):
 * - `opportunities.currency` and `opportunity_versions.currency`: the ISO 4217 code of the amount.
 *   The ingestion job writes the row's currency, or the default currency (`DEFAULT_CURRENCY`,
 *   USD) when the upload has none. Null only on rows stored before this migration: they are taken
 *   as already in any pilot's reporting currency (no conversion), i.e. exactly as before.
 * - `pilots.reporting_currency`: the currency a pilot's amount KPIs are reported in; null (pilots
 *   created before) = no conversion, as before.
 * - `exchange_rates`: dated rates supplied through POST /exchange-rates. One row says
 *   "from `valid_from` on, 1 `from_currency` = `rate` `to_currency`", until the next valid_from of
 *   the same pair. Rows are never updated (a report recomputed later reads the same rates).
 * - `fx_rate(from, to, day)`: the rate in force on `day` (the latest valid_from ≤ day of the
 *   pair in either direction, an inverse pair as 1/rate; direct wins a tie); 1 for from = to; null
 *   when none is in force. No cross rates through a third currency.
 * - The view `opportunity_all_versions` gains the currency.
 */
export class Currency1766700000000 implements MigrationInterface {
  name = 'Currency1766700000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE opportunities ADD COLUMN currency char(3)`);
    await q.query(`ALTER TABLE opportunity_versions ADD COLUMN currency char(3)`);
    await q.query(`ALTER TABLE pilots ADD COLUMN reporting_currency char(3)`);
    await q.query(`
      CREATE TABLE exchange_rates (
        id bigserial PRIMARY KEY,
        from_currency char(3) NOT NULL,
        to_currency char(3) NOT NULL,
        valid_from date NOT NULL,
        rate numeric(20,10) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_exchange_rates_rate CHECK (rate > 0),
        CONSTRAINT ck_exchange_rates_pair CHECK (from_currency <> to_currency),
        CONSTRAINT uq_exchange_rates_pair_day UNIQUE (from_currency, to_currency, valid_from)
      )`);
    await q.query(`
      CREATE FUNCTION fx_rate(c_from char(3), c_to char(3), day date) RETURNS numeric
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN c_from = c_to THEN 1::numeric ELSE (
          SELECT x.r FROM (
            SELECT valid_from, rate AS r, 0 AS pref FROM exchange_rates
             WHERE from_currency = c_from AND to_currency = c_to AND valid_from <= day
            UNION ALL
            SELECT valid_from, 1 / rate, 1 FROM exchange_rates
             WHERE from_currency = c_to AND to_currency = c_from AND valid_from <= day
          ) x ORDER BY x.valid_from DESC, x.pref LIMIT 1) END
      $$`);
    await q.query(`DROP VIEW opportunity_all_versions`);
    await q.query(`
      CREATE VIEW opportunity_all_versions AS
      SELECT ${VERSION_COLUMNS}, currency FROM opportunity_versions
      UNION ALL
      SELECT ${VERSION_COLUMNS}, currency FROM opportunities`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW opportunity_all_versions`);
    await q.query(`
      CREATE VIEW opportunity_all_versions AS
      SELECT ${VERSION_COLUMNS} FROM opportunity_versions
      UNION ALL
      SELECT ${VERSION_COLUMNS} FROM opportunities`);
    await q.query(`DROP FUNCTION fx_rate(char(3), char(3), date)`);
    await q.query(`DROP TABLE exchange_rates`);
    await q.query(`ALTER TABLE pilots DROP COLUMN reporting_currency`);
    await q.query(`ALTER TABLE opportunity_versions DROP COLUMN currency`);
    await q.query(`ALTER TABLE opportunities DROP COLUMN currency`);
  }
}
