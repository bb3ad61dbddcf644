import { Module } from '@nestjs/common';
import { AssignmentModule } from '../assignment/assignment.module';
import { AuditModule } from '../audit/audit.module';
import { PilotsModule } from '../pilots/pilots.module';
import { InterimLookService } from './interim-look.service';
import { LifecycleController } from './lifecycle.controller';
import { LifecycleService } from './lifecycle.service';
import { PlanService } from './plan.service';
import { ReportGovernanceService } from './report-governance.service';

/** Lifecycle, locked plans and amendments, territory reservations, interim looks (API and worker). */
@Module({
  imports: [AuditModule, PilotsModule, AssignmentModule],
  controllers: [LifecycleController],
  providers: [LifecycleService, PlanService, InterimLookService, ReportGovernanceService],
  exports: [LifecycleService, PlanService, InterimLookService, ReportGovernanceService],
})
export class GovernanceModule {}
