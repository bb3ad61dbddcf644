import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ReportQueryDto } from './dto/report-query.dto';
import { ReportsService } from './reports.service';
import { ALL_ROLES, Roles } from '../auth/roles.decorator';

@ApiTags('reports')
@Controller('pilots/:id/reports')
export class ReportsController {
  constructor(private readonly service: ReportsService) {}

  @Post()
  @Roles('experimenter', 'analyst')
  @HttpCode(202)
  @ApiOperation({ summary: 'Request a report; an analysis job computes it' })
  request(@Param('id', uuidParam('id')) id: string) {
    return this.service.request(id);
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "List the pilot's reports" })
  list(@Param('id', uuidParam('id')) id: string) {
    return this.service.list(id);
  }

  @Get(':reportId')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'A report: status, and when completed every KPI with CI, p-values and verdict' })
  get(@Param('id', uuidParam('id')) id: string, @Param('reportId', uuidParam('reportId')) reportId: string, @Query() query: ReportQueryDto) {
    return this.service.get(id, reportId, query.include_territories);
  }
}
