import { DynamicModule, Module } from '@nestjs/common';
import { AssignmentModule } from './assignment/assignment.module';
import { AuthModule } from './auth/auth.module';
import { GovernanceModule } from './governance/governance.module';
import { ConfigOverrides, CoreModule } from './core.module';
import { HealthController } from './health/health.controller';
import { HealthModule } from './health/health.module';
import { KpisModule } from './kpis/kpis.module';
import { BatchRequeueScheduler } from './opportunities/batch-requeue.scheduler';
import { OpportunitiesModule } from './opportunities/opportunities.module';
import { ExchangeRatesModule } from './exchange-rates/exchange-rates.module';
import { PilotsModule } from './pilots/pilots.module';
import { PowerModule } from './power/power.module';
import { OwnersModule } from './owners/owners.module';
import { QueueAdminModule } from './queue-admin/queue-admin.module';
import { RollupScheduler } from './rollups/rollup.scheduler';
import { RollupsModule } from './rollups/rollups.module';
import { ReportsModule } from './reports/reports.module';
import { TerritoriesModule } from './territories/territories.module';

/** The HTTP API: controllers and job producers; no queue consumers (see WorkerModule). */
@Module({})
export class AppModule {
  static forRoot(overrides: ConfigOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(overrides),
        AuthModule,
        GovernanceModule,
        TerritoriesModule,
        PilotsModule,
        AssignmentModule,
        OpportunitiesModule,
        ExchangeRatesModule,
        KpisModule,
        ReportsModule,
        PowerModule,
        RollupsModule,
        QueueAdminModule,
        OwnersModule,
        HealthModule,
      ],
      controllers: [HealthController],
      // API-only sweepers of modules the worker imports too (ReportsModule and PowerModule carry their own).
      providers: [BatchRequeueScheduler, RollupScheduler],
    };
  }
}
