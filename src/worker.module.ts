import { DynamicModule, Module, Provider } from '@nestjs/common';
import { ReportProcessor } from './reports/building/report.processor';
import { AssignmentModule } from './assignment/assignment.module';
import { EnvironmentVariables, validateEnvironment } from './config/env.validation';
import { GovernanceModule } from './governance/governance.module';
import { HealthModule } from './health/health.module';
import { WorkerHealthServer } from './health/worker-health.server';
import { InterimLookProcessor } from './reports/interim-look.processor';
import { ConfigOverrides, CoreModule } from './core.module';
import { KpisModule } from './kpis/kpis.module';
import { IngestionProcessor } from './opportunities/ingestion.processor';
import { OpportunitiesModule } from './opportunities/opportunities.module';
import { PilotsModule } from './pilots/pilots.module';
import { PowerWorkerModule } from './power/power.module';
import { PowerProcessor } from './power/power.processor';
import { parseWorkerQueues, QueueName } from './queues/queue.constants';
import { ReportsWorkerModule } from './reports/reports.module';
import { RollupsModule } from './rollups/rollups.module';
import { RollupsProcessor } from './rollups/rollups.processor';

const PROCESSORS: Record<QueueName, Provider[]> = {
  ingestion: [IngestionProcessor],
  analysis: [ReportProcessor],
  rollups: [RollupsProcessor],
  governance: [InterimLookProcessor],
  power: [PowerProcessor],
};

/**
 * The worker process: consumes the queues named by WORKER_QUEUES (twenty's queue-worker pattern:
 * same code as the API, another entry point). No API routes; only the health endpoint on
 * WORKER_HEALTH_PORT when set (WorkerHealthServer).
 */
@Module({})
export class WorkerModule {
  static forRoot(overrides: ConfigOverrides = {}): DynamicModule {
    const env: EnvironmentVariables = validateEnvironment({ ...process.env, ...overrides });
    const queues = parseWorkerQueues(env.WORKER_QUEUES);
    return {
      module: WorkerModule,
      imports: [CoreModule.forRoot(overrides, 'worker'), OpportunitiesModule, PilotsModule, AssignmentModule, KpisModule, RollupsModule, GovernanceModule, PowerWorkerModule, ReportsWorkerModule, HealthModule],
      providers: [...queues.flatMap((q) => PROCESSORS[q]), WorkerHealthServer],
    };
  }
}
