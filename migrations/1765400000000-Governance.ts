import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Governance (issue 5): API keys (hashed, one role each), the append-only audit trail (a trigger
 * rejects UPDATE, DELETE and TRUNCATE), the pilot lifecycle draft → in_review → approved → running →
 * stopped → concluded → archived with its recorded transitions, locked analysis plans (one row per
 * approved or proposed version, hashed), declared pilot compatibility (territory reservations) and
 * scheduled interim looks.
 */
export class Governance1765400000000 implements MigrationInterface {
  name = 'Governance1765400000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL,
        role varchar(16) NOT NULL,
        prefix varchar(16) NOT NULL,
        key_hash char(64) NOT NULL,
        is_bootstrap boolean NOT NULL DEFAULT false,
        created_by uuid REFERENCES api_keys (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_by uuid REFERENCES api_keys (id),
        CONSTRAINT uq_api_keys_hash UNIQUE (key_hash),
        CONSTRAINT ck_api_keys_role CHECK (role IN ('admin', 'sales_ops', 'experimenter', 'analyst'))
      )`);

    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor_key_id uuid,
        actor_name varchar(100),
        actor_role varchar(16),
        action varchar(100) NOT NULL,
        entity_type varchar(50) NOT NULL,
        entity_id varchar(100),
        pilot_id uuid,
        request_id varchar(100),
        before jsonb,
        after jsonb
      )`);
    await q.query(`CREATE INDEX ix_audit_events_pilot ON audit_events (pilot_id, id)`);
    await q.query(`CREATE INDEX ix_audit_events_entity ON audit_events (entity_type, entity_id, id)`);
    await q.query(`CREATE INDEX ix_audit_events_actor ON audit_events (actor_key_id, id)`);
    await q.query(`CREATE INDEX ix_audit_events_action ON audit_events (action, id)`);
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER tr_audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`
      CREATE TRIGGER tr_audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);

    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_status`);
    await q.query(
      `ALTER TABLE pilots ADD CONSTRAINT ck_pilots_status CHECK (status IN ('draft', 'in_review', 'approved', 'running', 'stopped', 'concluded', 'archived'))`,
    );
    await q.query(`
      ALTER TABLE pilots
        ADD COLUMN author_key_id uuid,
        ADD COLUMN interim_look_dates text[] NOT NULL DEFAULT '{}',
        ADD COLUMN plan_version integer,
        ADD COLUMN plan_hash char(64),
        ADD COLUMN approved_at timestamptz,
        ADD COLUMN concluded_at timestamptz,
        ADD COLUMN archived_at timestamptz`);

    await q.query(`
      CREATE TABLE pilot_transitions (
        id bigserial PRIMARY KEY,
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        from_status varchar(16) NOT NULL,
        to_status varchar(16) NOT NULL,
        actor_key_id uuid,
        reason text,
        occurred_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX ix_pilot_transitions_pilot ON pilot_transitions (pilot_id, id)`);

    await q.query(`
      CREATE TABLE analysis_plans (
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        version integer NOT NULL,
        status varchar(16) NOT NULL,
        plan jsonb NOT NULL,
        plan_hash char(64) NOT NULL,
        changes jsonb,
        reason text,
        proposed_by uuid,
        proposed_at timestamptz NOT NULL DEFAULT now(),
        decided_by uuid,
        decided_at timestamptz,
        PRIMARY KEY (pilot_id, version),
        CONSTRAINT ck_analysis_plans_status CHECK (status IN ('pending', 'approved', 'rejected')),
        CONSTRAINT ck_analysis_plans_version CHECK (version >= 1),
        CONSTRAINT ck_analysis_plans_amendment_reason CHECK (version = 1 OR reason IS NOT NULL)
      )`);
    // At most one pending amendment per pilot.
    await q.query(`CREATE UNIQUE INDEX uq_analysis_plans_pending ON analysis_plans (pilot_id) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE pilot_compatibility (
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        compatible_pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        reason text NOT NULL,
        declared_by uuid,
        declared_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pilot_id, compatible_pilot_id),
        CONSTRAINT ck_pilot_compatibility_distinct CHECK (pilot_id <> compatible_pilot_id)
      )`);

    await q.query(`
      CREATE TABLE interim_looks (
        pilot_id uuid NOT NULL REFERENCES pilots (id) ON DELETE CASCADE,
        look_number integer NOT NULL,
        planned_date date NOT NULL,
        information_fraction double precision NOT NULL,
        status varchar(16) NOT NULL,
        report_id uuid REFERENCES reports (id) ON DELETE SET NULL,
        result jsonb,
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (pilot_id, look_number),
        CONSTRAINT ck_interim_looks_status CHECK (status IN ('computing', 'completed', 'failed')),
        CONSTRAINT ck_interim_looks_fraction CHECK (information_fraction > 0 AND information_fraction <= 1)
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS interim_looks`);
    await q.query(`DROP TABLE IF EXISTS pilot_compatibility`);
    await q.query(`DROP TABLE IF EXISTS analysis_plans`);
    await q.query(`DROP TABLE IF EXISTS pilot_transitions`);
    await q.query(`
      ALTER TABLE pilots
        DROP COLUMN author_key_id, DROP COLUMN interim_look_dates, DROP COLUMN plan_version, DROP COLUMN plan_hash,
        DROP COLUMN approved_at, DROP COLUMN concluded_at, DROP COLUMN archived_at`);
    await q.query(`UPDATE pilots SET status = 'stopped' WHERE status IN ('concluded', 'archived')`);
    await q.query(`UPDATE pilots SET status = 'draft' WHERE status IN ('in_review', 'approved')`);
    await q.query(`ALTER TABLE pilots DROP CONSTRAINT ck_pilots_status`);
    await q.query(`ALTER TABLE pilots ADD CONSTRAINT ck_pilots_status CHECK (status IN ('draft', 'running', 'stopped'))`);
    await q.query(`DROP TABLE IF EXISTS audit_events`);
    await q.query(`DROP FUNCTION IF EXISTS audit_events_append_only()`);
    await q.query(`DROP TABLE IF EXISTS api_keys`);
  }
}
