import 'reflect-metadata';
import { Client } from 'pg';
import { validateEnvironment } from '../../src/config/env.validation';
import { ensureDatabase, runMigrations } from '../../src/database/migrate';
import { TEST_DB_NAME } from './test-env';

/**
 * Once per `jest` run: (re)creates the test database from scratch and applies every migration,
 * so integration and e2e tests see exactly the schema the migrations build (never synchronize).
 */
export default async function globalSetup(): Promise<void> {
  const env = validateEnvironment({ ...process.env, DB_NAME: TEST_DB_NAME });
  await ensureDatabase(env);
  const client = new Client({ host: env.DB_HOST, port: env.DB_PORT, user: env.DB_USER, password: env.DB_PASSWORD, database: TEST_DB_NAME });
  await client.connect();
  await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  await client.end();
  await runMigrations(env);
}
