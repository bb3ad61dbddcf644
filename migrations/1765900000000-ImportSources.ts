import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Import sources (issue 13): a named source with its import profile, a user-defined column map
 * (profile field → source column) and a stage mapping per pipeline ({pipeline: {won, lost, open}}).
 * Uploads naming the source (`?source=`) use them.
 */
export class ImportSources1765900000000 implements MigrationInterface {
  name = 'ImportSources1765900000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE import_sources (
      name varchar(64) PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
      profile varchar(32) NOT NULL,
      column_map jsonb NOT NULL DEFAULT '{}'::jsonb,
      stage_mapping jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE import_sources`);
  }
}
