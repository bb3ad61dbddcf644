import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first slice's schema: territories, pilots, assignments, opportunity batches, opportunities
 * and reports. Instants are `timestamptz`, calendar days `date`, money `numeric(16,2)`.
 * Every unique key an upsert relies on has no nullable part (pitfall P13).
 */
export class InitialSchema1764500000000 implements MigrationInterface {
  name = 'InitialSchema1764500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    await q.query(`
      CREATE TABLE territories (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code varchar(128) NOT NULL,
        name varchar(256) NOT NULL,
        region varchar(128) NOT NULL,
        team varchar(128),
        manager varchar(256),
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_territories_code UNIQUE (code),
        CONSTRAINT ck_territories_attributes_object CHECK (jsonb_typeof(attributes) = 'object')
      )`);
    await q.query(`CREATE INDEX ix_territories_region ON territories (region)`);

    await q.query(`
      CREATE TABLE pilots (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        hypothesis text NOT NULL,
        treatment_description text NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'draft',
        eligibility jsonb NOT NULL,
        arms jsonb NOT NULL,
        primary_kpi varchar(64) NOT NULL,
        secondary_kpis text[] NOT NULL DEFAULT '{}',
        guardrail_kpis text[] NOT NULL DEFAULT '{}',
        pre_period_start date NOT NULL,
        pre_period_end date NOT NULL,
        test_period_start date NOT NULL,
        test_period_end date NOT NULL,
        alpha numeric(6,5) NOT NULL DEFAULT 0.05,
        design_type varchar(16) NOT NULL,
        stratify_by varchar(32),
        seed bigint NOT NULL,
        launched_at timestamptz,
        stopped_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_pilots_status CHECK (status IN ('draft', 'running', 'stopped')),
        CONSTRAINT ck_pilots_design CHECK (design_type IN ('complete', 'stratified')),
        CONSTRAINT ck_pilots_pre_period CHECK (pre_period_start <= pre_period_end),
        CONSTRAINT ck_pilots_test_period CHECK (test_period_start <= test_period_end),
        CONSTRAINT ck_pilots_windows_disjoint CHECK (pre_period_end < test_period_start),
        CONSTRAINT ck_pilots_alpha CHECK (alpha > 0 AND alpha < 0.5),
        CONSTRAINT ck_pilots_seed CHECK (seed >= 0)
      )`);

    await q.query(`
      CREATE TABLE assignments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        seed bigint NOT NULL,
        prng_algorithm varchar(128) NOT NULL,
        algorithm_version varchar(128) NOT NULL,
        inputs_hash char(64) NOT NULL,
        design jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_assignments_pilot UNIQUE (pilot_id)
      )`);
    await q.query(`
      CREATE TABLE assignment_units (
        assignment_id uuid NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
        territory_id uuid NOT NULL REFERENCES territories (id),
        territory_code varchar(128) NOT NULL,
        arm varchar(32) NOT NULL,
        stratum varchar(128) NOT NULL,
        covariates jsonb NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (assignment_id, territory_id)
      )`);

    await q.query(`
      CREATE TABLE opportunity_batches (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL,
        source varchar(8) NOT NULL,
        status varchar(16) NOT NULL,
        idempotency_key varchar(200),
        column_mapping jsonb,
        ignored_columns text[] NOT NULL DEFAULT '{}',
        content_hash char(64),
        row_count integer NOT NULL DEFAULT 0,
        rows_processed integer NOT NULL DEFAULT 0,
        rows_accepted integer NOT NULL DEFAULT 0,
        rows_rejected integer NOT NULL DEFAULT 0,
        rows_inserted integer NOT NULL DEFAULT 0,
        rows_updated integer NOT NULL DEFAULT 0,
        rows_unchanged integer NOT NULL DEFAULT 0,
        rows_stale integer NOT NULL DEFAULT 0,
        enqueue_attempts integer NOT NULL DEFAULT 0,
        enqueued_at timestamptz,
        error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz,
        CONSTRAINT uq_opportunity_batches_seq UNIQUE (seq),
        CONSTRAINT ck_opportunity_batches_source CHECK (source IN ('json', 'csv')),
        CONSTRAINT ck_opportunity_batches_status CHECK (status IN ('queued', 'processing', 'completed', 'failed'))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_opportunity_batches_idempotency_key ON opportunity_batches (idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX ix_opportunity_batches_status ON opportunity_batches (status)`);
    await q.query(`
      CREATE TABLE opportunity_batch_rows (
        batch_id uuid NOT NULL REFERENCES opportunity_batches (id) ON DELETE CASCADE,
        row_number integer NOT NULL,
        raw jsonb NOT NULL,
        PRIMARY KEY (batch_id, row_number)
      )`);
    await q.query(`
      CREATE TABLE opportunity_batch_rejections (
        batch_id uuid NOT NULL REFERENCES opportunity_batches (id) ON DELETE CASCADE,
        row_number integer NOT NULL,
        opportunity_id varchar(128),
        reasons text[] NOT NULL,
        PRIMARY KEY (batch_id, row_number)
      )`);

    await q.query(`
      CREATE TABLE opportunities (
        opportunity_id varchar(128) PRIMARY KEY,
        territory_id uuid NOT NULL REFERENCES territories (id),
        stage varchar(64) NOT NULL,
        status varchar(8) NOT NULL,
        amount numeric(16,2),
        engage_date date,
        close_date date,
        created_at_source timestamptz,
        source_updated_at timestamptz,
        product varchar(128),
        account varchar(256),
        version_at timestamptz NOT NULL,
        version_batch_seq bigint NOT NULL,
        version_row integer NOT NULL,
        batch_id uuid NOT NULL REFERENCES opportunity_batches (id),
        ingested_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_opportunities_status CHECK (status IN ('open', 'won', 'lost')),
        CONSTRAINT ck_opportunities_close_date CHECK ((status = 'open') = (close_date IS NULL)),
        CONSTRAINT ck_opportunities_closed_engaged CHECK (status = 'open' OR engage_date IS NOT NULL),
        CONSTRAINT ck_opportunities_won_amount CHECK (status <> 'won' OR amount IS NOT NULL),
        CONSTRAINT ck_opportunities_dates_ordered CHECK (close_date IS NULL OR close_date >= engage_date)
      )`);
    await q.query(`CREATE INDEX ix_opportunities_territory_engage ON opportunities (territory_id, engage_date)`);

    await q.query(`
      CREATE TABLE reports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        status varchar(16) NOT NULL,
        enqueued_at timestamptz,
        requested_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz,
        data_cutoff_at timestamptz,
        result json,
        error text,
        CONSTRAINT ck_reports_status CHECK (status IN ('queued', 'running', 'completed', 'failed'))
      )`);
    await q.query(`CREATE INDEX ix_reports_pilot ON reports (pilot_id, requested_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS reports`);
    await q.query(`DROP TABLE IF EXISTS opportunities`);
    await q.query(`DROP TABLE IF EXISTS opportunity_batch_rejections`);
    await q.query(`DROP TABLE IF EXISTS opportunity_batch_rows`);
    await q.query(`DROP TABLE IF EXISTS opportunity_batches`);
    await q.query(`DROP TABLE IF EXISTS assignment_units`);
    await q.query(`DROP TABLE IF EXISTS assignments`);
    await q.query(`DROP TABLE IF EXISTS pilots`);
    await q.query(`DROP TABLE IF EXISTS territories`);
  }
}
