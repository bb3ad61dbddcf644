import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ArrayMaxSize, IsArray, IsObject } from 'class-validator';
import { ALL_ROLES, Roles } from '../../common/auth/roles';
import { parseFormatOverride } from '../upload-decoding';
import { uploadStreamOf } from '../upload-stream';
import { FieldHistoryService } from './field-history.service';
import { detectedOf, readHistoryCsv } from './history-csv';

/** A JSON upload of field-history records (shapes: docs/kpis.md, "Field history"). */
export class HistoryUploadDto {
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Salesforce OpportunityFieldHistory / OpportunityHistory, HubSpot property history or PilotLab records' })
  @IsArray()
  @ArrayMaxSize(50000)
  @IsObject({ each: true })
  records!: Record<string, unknown>[];
}

@ApiTags('opportunities')
@Controller('opportunities')
export class FieldHistoryController {
  constructor(private readonly history: FieldHistoryService) {}

  @Post('history')
  @HttpCode(200)
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Upload opportunity field-history records; good rows are stored, bad rows and anomalies reported with row numbers' })
  upload(@Body() dto: HistoryUploadDto) {
    return this.history.upload(dto.records);
  }

  @Post('history/csv')
  @HttpCode(200)
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Upload field-history records as CSV (same shapes, answer and row numbers as POST /opportunities/history; delimiter and encoding detected)' })
  @ApiConsumes('multipart/form-data', 'text/csv')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiQuery({ name: 'delimiter', required: false, description: "',' ';' or 'tab'; detected from the first lines when absent" })
  @ApiQuery({ name: 'encoding', required: false, description: 'utf-8, utf-16le, utf-16be or windows-1252; detected when absent' })
  async uploadCsv(@Req() req: Request, @Query('delimiter') delimiter: string | undefined, @Query('encoding') encoding: string | undefined) {
    let format;
    try {
      format = parseFormatOverride(delimiter, encoding);
    } catch (err) {
      req.resume(); // a bad parameter is a 400; the body is drained unread
      throw err;
    }
    const { records, detected } = await readHistoryCsv(await uploadStreamOf(req), format);
    return { ...(await this.history.upload(records)), detected: detectedOf(detected) };
  }

  @Get('history/anomalies')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Stage regressions, back-dated close dates and amount edits after close over the stored histories' })
  async anomalies(@Query('opportunity_id') id: string | undefined) {
    return { items: await this.history.anomaliesOf(id ? [id] : null) };
  }

  @Get('history/kpis')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Revenue won, deal counts, average deal size and win rate as known at an instant (?at=ISO with zone)' })
  kpis(@Query('at') at: string) {
    return this.history.kpisAsOf(at);
  }

  @Get(':opportunityId/as-of')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'One opportunity (stage, amount, close date) as known at an instant (?at=ISO with zone)' })
  asOf(@Param('opportunityId') id: string, @Query('at') at: string) {
    return this.history.stateAsOf(id, at);
  }
}
