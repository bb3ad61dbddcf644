import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsObject } from 'class-validator';
import { ALL_ROLES, Roles } from '../../common/auth/roles';
import { FieldHistoryService } from './field-history.service';

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
