import { Module } from '@nestjs/common';
import { AssignmentModule } from '../assignment/assignment.module';
import { PilotsModule } from '../pilots/pilots.module';
import { ReportExportService } from './rendering/report-export.service';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

@Module({
  imports: [PilotsModule, AssignmentModule],
  controllers: [ReportsController],
  providers: [ReportsService, ReportExportService],
  exports: [ReportsService],
})
export class ReportsModule {}
