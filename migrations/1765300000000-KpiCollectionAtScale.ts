import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * KPI collection at CRM scale (issue 4):
 * - data versions: every processed batch gets a `data_version` from one sequence, assigned in
 *   commit order; a report records the data version it read, so it can be recomputed exactly;
 * - `opportunity_versions`: every accepted row ever ingested (the current state stays in
 *   `opportunities`), for as-of computations;
 * - `opportunity_changes`: the (territory, owner, ISO week) keys each data version touched, so
 *   rollups are refreshed only where data changed;
 * - `owner_territories`: reps (owners) mapped to territories with effective dates;
 * - `kpi_rollups` and `kpi_rollup_state`: per pilot × period × territory × ISO week KPI sums;
 * - staging: a schema `opportunity_staging` for the per-batch staging tables that COPY fills;
 *   the raw-row table `opportunity_batch_rows` is replaced by them and dropped;
 * - batches may be `cancelled`; opportunities carry their `owner` and `data_version`;
 * - reports record `data_version` and `as_of`.
 */
export class KpiCollectionAtScale1765300000000 implements MigrationInterface {
  name = 'KpiCollectionAtScale1765300000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SCHEMA IF NOT EXISTS opportunity_staging`);
    await q.query(`DROP TABLE IF EXISTS opportunity_batch_rows`);
    await q.query(`CREATE SEQUENCE opportunity_data_version_seq AS bigint START 1`);
    await q.query(`CREATE SEQUENCE owner_mapping_version_seq AS bigint START 1`);

    // Monday of the ISO week of a date, by date arithmetic only (no time zone involved).
    await q.query(`
      CREATE FUNCTION iso_week_start(d date) RETURNS date
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT d - (extract(isodow FROM d)::int - 1) $$`);

    await q.query(`ALTER TABLE opportunity_batches DROP CONSTRAINT ck_opportunity_batches_status`);
    await q.query(
      `ALTER TABLE opportunity_batches ADD CONSTRAINT ck_opportunity_batches_status CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled'))`,
    );
    await q.query(`ALTER TABLE opportunity_batches ADD COLUMN data_version bigint`);
    await q.query(`ALTER TABLE opportunity_batches ADD COLUMN staging_chunks integer NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE opportunity_batches ADD CONSTRAINT uq_opportunity_batches_data_version UNIQUE (data_version)`);

    await q.query(`ALTER TABLE opportunities ADD COLUMN owner varchar(128)`);
    await q.query(`ALTER TABLE opportunities ADD COLUMN data_version bigint NOT NULL DEFAULT 0`);

    await q.query(`
      CREATE TABLE opportunity_versions (
        opportunity_id varchar(128) NOT NULL,
        version_at timestamptz NOT NULL,
        version_batch_seq bigint NOT NULL,
        version_row integer NOT NULL,
        data_version bigint NOT NULL,
        territory_id uuid NOT NULL,
        owner varchar(128),
        stage varchar(64) NOT NULL,
        status varchar(8) NOT NULL,
        amount numeric(16,2),
        engage_date date,
        close_date date,
        created_at_source timestamptz,
        source_updated_at timestamptz,
        product varchar(128),
        account varchar(256),
        batch_id uuid NOT NULL,
        CONSTRAINT pk_opportunity_versions PRIMARY KEY (opportunity_id, version_at, version_batch_seq, version_row)
      )`);

    await q.query(`
      CREATE TABLE opportunity_changes (
        data_version bigint NOT NULL,
        territory_id uuid NOT NULL,
        owner varchar(128) NOT NULL DEFAULT '',
        engage_week date NOT NULL,
        CONSTRAINT pk_opportunity_changes PRIMARY KEY (data_version, territory_id, owner, engage_week)
      )`);

    await q.query(`
      CREATE TABLE owner_territories (
        owner varchar(128) NOT NULL,
        valid_from date NOT NULL,
        valid_to date,
        territory_id uuid NOT NULL REFERENCES territories (id),
        mapping_version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_owner_territories PRIMARY KEY (owner, valid_from),
        CONSTRAINT ck_owner_territories_order CHECK (valid_to IS NULL OR valid_to >= valid_from)
      )`);

    await q.query(`
      CREATE TABLE kpi_rollups (
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        period varchar(4) NOT NULL,
        territory_id uuid NOT NULL,
        week_start date NOT NULL,
        n_opportunities integer NOT NULL,
        n_won integer NOT NULL,
        n_lost integer NOT NULL,
        won_amount_total numeric(20,2) NOT NULL,
        cycle_days_total bigint NOT NULL,
        CONSTRAINT pk_kpi_rollups PRIMARY KEY (pilot_id, period, territory_id, week_start),
        CONSTRAINT ck_kpi_rollups_period CHECK (period IN ('pre', 'test'))
      )`);

    await q.query(`
      CREATE TABLE kpi_rollup_state (
        pilot_id uuid PRIMARY KEY REFERENCES pilots (id) ON DELETE CASCADE,
        signature text NOT NULL,
        data_version bigint NOT NULL,
        mapping_version bigint NOT NULL,
        full_refreshes integer NOT NULL DEFAULT 0,
        incremental_refreshes integer NOT NULL DEFAULT 0,
        last_keys_refreshed integer NOT NULL DEFAULT 0,
        refreshed_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`ALTER TABLE reports ADD COLUMN data_version bigint`);
    await q.query(`ALTER TABLE reports ADD COLUMN as_of timestamptz`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reports DROP COLUMN as_of`);
    await q.query(`ALTER TABLE reports DROP COLUMN data_version`);
    await q.query(`DROP TABLE kpi_rollup_state`);
    await q.query(`DROP TABLE kpi_rollups`);
    await q.query(`DROP TABLE owner_territories`);
    await q.query(`DROP TABLE opportunity_changes`);
    await q.query(`DROP TABLE opportunity_versions`);
    await q.query(`ALTER TABLE opportunities DROP COLUMN data_version`);
    await q.query(`ALTER TABLE opportunities DROP COLUMN owner`);
    await q.query(`ALTER TABLE opportunity_batches DROP CONSTRAINT uq_opportunity_batches_data_version`);
    await q.query(`ALTER TABLE opportunity_batches DROP COLUMN staging_chunks`);
    await q.query(`ALTER TABLE opportunity_batches DROP COLUMN data_version`);
    await q.query(`UPDATE opportunity_batches SET status = 'failed', error = 'cancelled' WHERE status = 'cancelled'`);
    await q.query(`ALTER TABLE opportunity_batches DROP CONSTRAINT ck_opportunity_batches_status`);
    await q.query(
      `ALTER TABLE opportunity_batches ADD CONSTRAINT ck_opportunity_batches_status CHECK (status IN ('queued', 'processing', 'completed', 'failed'))`,
    );
    await q.query(`DROP FUNCTION iso_week_start(date)`);
    await q.query(`DROP SEQUENCE owner_mapping_version_seq`);
    await q.query(`DROP SEQUENCE opportunity_data_version_seq`);
    await q.query(`
      CREATE TABLE opportunity_batch_rows (
        batch_id uuid NOT NULL REFERENCES opportunity_batches (id) ON DELETE CASCADE,
        row_number integer NOT NULL,
        raw jsonb NOT NULL,
        PRIMARY KEY (batch_id, row_number)
      )`);
    await q.query(`DROP SCHEMA IF EXISTS opportunity_staging CASCADE`);
  }
}
