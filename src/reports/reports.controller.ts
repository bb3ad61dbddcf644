import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ReportQueryDto } from './dto/report-query.dto';
import { RequestReportDto } from './dto/request-report.dto';
import { ReportsService } from './reports.service';
import { ReportExportService } from './rendering/report-export.service';
import { ALL_ROLES, Roles } from '../common/auth/roles';

@ApiTags('reports')
@Controller('pilots/:id/reports')
export class ReportsController {
  constructor(
    private readonly service: ReportsService,
    private readonly formats: ReportExportService,
  ) {}

  @Post()
  @Roles('experimenter', 'analyst')
  @HttpCode(202)
  @ApiOperation({ summary: 'Request a report; an analysis job computes it' })
  request(@Param('id', uuidParam('id')) id: string, @Body() body?: RequestReportDto) {
    return this.service.request(id, body ?? {});
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "List the pilot's reports" })
  list(@Param('id', uuidParam('id')) id: string) {
    return this.service.list(id);
  }

  // Declared before ':reportId', which would otherwise take 'uuid.html' as the id.
  // Content types are set after success (not with @Header), so an error keeps its JSON body.
  @Get(':reportId.html')
  @Roles(...ALL_ROLES)
  @ApiProduces('text/html')
  @ApiOperation({ summary: 'The report as one self-contained HTML page (decision summary, KPI table, charts); same as Accept: text/html' })
  async html(@Param('id', uuidParam('id')) id: string, @Param('reportId', uuidParam('reportId')) reportId: string, @Res({ passthrough: true }) res: Response) {
    return sendAs(res, 'html', await this.formats.html(id, reportId));
  }

  @Get(':reportId/kpis.csv')
  @Roles(...ALL_ROLES)
  @ApiProduces('text/csv')
  @ApiOperation({ summary: 'The KPI result table of a completed report as CSV' })
  async kpisCsv(@Param('id', uuidParam('id')) id: string, @Param('reportId', uuidParam('reportId')) reportId: string, @Res({ passthrough: true }) res: Response) {
    return sendAs(res, 'csv', await this.formats.kpisCsv(id, reportId), `report-${reportId}-kpis.csv`);
  }

  @Get(':reportId/territories.csv')
  @Roles(...ALL_ROLES)
  @ApiProduces('text/csv')
  @ApiOperation({ summary: 'Territory-level KPI values per arm and period of a completed report as CSV' })
  async territoriesCsv(@Param('id', uuidParam('id')) id: string, @Param('reportId', uuidParam('reportId')) reportId: string, @Res({ passthrough: true }) res: Response) {
    return sendAs(res, 'csv', await this.formats.territoriesCsv(id, reportId), `report-${reportId}-territories.csv`);
  }

  @Get(':reportId')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'A report: status, and when completed every KPI with CI, p-values and verdict' })
  @ApiProduces('application/json', 'text/html')
  get(
    @Param('id', uuidParam('id')) id: string,
    @Param('reportId', uuidParam('reportId')) reportId: string,
    @Query() query: ReportQueryDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    // Content negotiation: a browser (Accept: text/html) gets the page, everything else JSON.
    if (req.accepts(['application/json', 'text/html']) === 'text/html') return this.formats.html(id, reportId).then((page) => sendAs(res, 'html', page));
    if (query.include_territories === false) return this.service.get(id, reportId, false);
    // The whole report: its stored JSON text as read (no parse and stringify in the API).
    return this.service.getJsonText(id, reportId).then((text) => {
      res.type('application/json; charset=utf-8');
      return text;
    });
  }
}

/** Sets the content type (and a download name for CSV) of a successful text answer. */
function sendAs(res: Response, type: 'html' | 'csv', body: string, filename?: string): string {
  res.type(type === 'html' ? 'text/html; charset=utf-8' : 'text/csv; charset=utf-8');
  if (filename) res.attachment(filename);
  return body;
}
