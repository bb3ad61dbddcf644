import { Module } from '@nestjs/common';
import { AssignmentModule } from '../assignment/assignment.module';
import { GovernanceModule } from '../governance/governance.module';
import { KpisModule } from '../kpis/kpis.module';
import { PilotsModule } from '../pilots/pilots.module';
import { ReportBuilderService } from './building/report-builder.service';
import { ReportInputsLoader } from './building/report-inputs';
import { ReportExportService } from './rendering/report-export.service';
import { ReportPageService } from './rendering/report-page.service';
import { ReportsController } from './reports.controller';
import { ReportRequeueScheduler } from './report-requeue.scheduler';
import { ReportsService } from './reports.service';

/** The API side of reports: requests, reads, exports, and the sweeper of lost report jobs. */
@Module({
  imports: [PilotsModule, AssignmentModule],
  controllers: [ReportsController],
  providers: [ReportsService, ReportExportService, ReportPageService, ReportRequeueScheduler],
  exports: [ReportsService],
})
export class ReportsModule {}

/**
 * The worker side of reports: builds a report from its inputs (ReportBuilderService) and renders
 * its HTML page once (ReportPageService). The worker
 * imports this module and registers the queue consumers (ReportProcessor, InterimLookProcessor)
 * for the queues it serves.
 */
@Module({
  imports: [PilotsModule, AssignmentModule, KpisModule, GovernanceModule],
  providers: [ReportInputsLoader, ReportBuilderService, ReportPageService],
  exports: [ReportBuilderService],
})
export class ReportsWorkerModule {}
