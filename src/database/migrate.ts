import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EnvironmentVariables, loadEnvironment } from '../config/env.validation';
import { buildDataSourceOptions } from './typeorm-options';

/**
 * Creates the database named by DB_NAME when it does not exist (connecting to the `postgres`
 * maintenance database), so a clean machine needs no manual step.
 */
export async function ensureDatabase(env: EnvironmentVariables): Promise<boolean> {
  const client = new Client({
    host: env.DB_HOST,
    port: env.DB_PORT,
    user: env.DB_USER,
    password: env.DB_PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [env.DB_NAME]);
    if (found.rowCount) return false;
    await client.query(`CREATE DATABASE "${env.DB_NAME.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}

/** Applies every pending migration; returns the names applied. */
export async function runMigrations(env: EnvironmentVariables): Promise<string[]> {
  const ds = new DataSource(buildDataSourceOptions(env));
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

if (require.main === module) {
  const env = loadEnvironment();
  ensureDatabase(env)
    .then((created) => {
      if (created) console.log(`created database ${env.DB_NAME}`);
      return runMigrations(env);
    })
    .then((names) => {
      console.log(names.length ? `applied: ${names.join(', ')}` : 'schema up to date');
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
