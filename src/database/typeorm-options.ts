import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { EnvironmentVariables } from '../config/env.validation';
import { AssignmentUnitEntity } from '../assignment/assignment-unit.entity';
import { AssignmentEntity } from '../assignment/assignment.entity';
import { OpportunityBatchEntity } from '../opportunities/opportunity-batch.entity';
import { OpportunityEntity } from '../opportunities/opportunity.entity';
import { PilotEntity } from '../pilots/pilot.entity';
import { PowerAnalysisEntity } from '../power/power-analysis.entity';
import { ReportEntity } from '../reports/report.entity';
import { TerritoryEntity } from '../territories/territory.entity';
import { installPgTypeParsers } from '../common/database/pg-types';
import { TypeOrmLogger } from '../common/database/typeorm-logger';

export const ENTITIES = [
  TerritoryEntity,
  PilotEntity,
  AssignmentEntity,
  AssignmentUnitEntity,
  OpportunityBatchEntity,
  OpportunityEntity,
  ReportEntity,
  PowerAnalysisEntity,
];

/**
 * The one TypeORM options object, used by the Nest app, the worker, the migration CLI
 * (data-source.ts), tests and benches. `synchronize` is off everywhere: migrations are the only
 * source of the schema (test/integration/migration-drift.spec.ts fails when entities drift).
 */
export function buildDataSourceOptions(env: EnvironmentVariables): DataSourceOptions {
  installPgTypeParsers();
  return {
    type: 'postgres',
    host: env.DB_HOST,
    port: env.DB_PORT,
    username: env.DB_USER,
    password: env.DB_PASSWORD,
    database: env.DB_NAME,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    // Errors and warnings go through the app's logger; a failed query is a debug line (see TypeOrmLogger).
    logging: ['error', 'warn'],
    logger: new TypeOrmLogger(env.LOG_LEVEL),
    // max: connections per process (DB_POOL_MAX); connectionTimeoutMillis: without it, pg-pool waits forever for a connection to an unreachable server.
    extra: { max: env.DB_POOL_MAX, application_name: 'pilotlab', connectionTimeoutMillis: env.DB_CONNECT_TIMEOUT_MS },
  };
}
