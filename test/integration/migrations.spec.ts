import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../../src/config/env.validation';
import { buildDataSourceOptions } from '../../src/database/typeorm-options';
import { TEST_DB_NAME } from '../utils/test-env';

/**
 * Entities and migrations describe the same schema (house style: CI fails on migration drift).
 * The test database was built by the migrations alone (global-setup.ts); TypeORM's schema builder
 * then diffs it against the entity metadata. Any pending query means `migration:generate` would
 * emit a migration, e.g. DROPs of the unique keys the upserts rely on.
 */
describe('migrations match the entities', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = new DataSource(buildDataSourceOptions(validateEnvironment({ ...process.env, DB_NAME: TEST_DB_NAME })));
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  it('has no pending schema change (no drift)', async () => {
    const log = await ds.driver.createSchemaBuilder().log();
    const pending = log.upQueries.map((q) => q.query);
    // Printed in the failure message, so the drift is visible without re-running anything.
    expect(pending).toEqual([]);
  });

  it('applied exactly the listed migrations', async () => {
    const rows: { name: string }[] = await ds.query(`SELECT name FROM migrations ORDER BY id`);
    expect(rows.map((r) => r.name)).toEqual(ds.migrations.map((m) => m.name));
    expect(await ds.showMigrations()).toBe(false);
  });
});
