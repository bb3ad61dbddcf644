import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { IdempotencyKey } from '../common/validation/idempotency-key.decorator';
import { uuidParam } from '../common/validation/uuid-param.pipe';
import { ALL_ROLES, Roles } from '../common/auth/roles';
import { QueueDepthGuard } from '../queues/queue-depth.guard';
import { BatchSizeGuard } from './batch-size.guard';
import { BatchService } from './batch.service';
import { BatchStatusQuery } from './dto/batch-status.query';
import { BatchAcceptedDto, CreateBatchDto } from './dto/create-batch.dto';
import { OpportunityRepository } from './opportunity.repository';
import { parseFormatOverride } from './upload-decoding';
import { XLSX_CONTENT_TYPE } from './upload-stream';
import { AppException } from '../common/errors/app.exception';

@ApiTags('opportunities')
@Controller('opportunities')
export class OpportunitiesController {
  constructor(
    private readonly batches: BatchService,
    private readonly opportunities: OpportunityRepository,
  ) {}

  @Post('batches')
  @HttpCode(202)
  @Roles('sales_ops')
  @UseGuards(QueueDepthGuard, BatchSizeGuard)
  @ApiOperation({ summary: 'Submit a JSON batch of opportunity rows (at most BATCH_MAX_ROWS, default 50,000); processed by the ingestion queue' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiBody({ type: CreateBatchDto, description: 'With ?profile=salesforce|hubspot|snapshot, rows carry that profile\'s column names (docs/imports.md)' })
  @ApiQuery({ name: 'profile', required: false, description: 'Import profile: pilotlab (default), salesforce, hubspot, snapshot' })
  // The body is validated by the profile (readJsonBatch): pilotlab rows by CreateBatchDto, as before.
  createBatch(@Body() body: Record<string, unknown>, @Query('profile') profile: string | undefined, @Query('source') source: string | undefined, @IdempotencyKey() key: string | null): Promise<BatchAcceptedDto> {
    return this.batches.createFromJson(body, key, profile, source);
  }

  @Post('batches/csv')
  @HttpCode(202)
  @Roles('sales_ops')
  @UseGuards(QueueDepthGuard)
  @ApiOperation({ summary: 'Stream a CSV or an .xlsx workbook of opportunities (multipart field "file", a text/csv body or an xlsx body; the kind is told by content type, file name or the ZIP signature)' })
  @ApiConsumes('multipart/form-data', 'text/csv', XLSX_CONTENT_TYPE)
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiQuery({ name: 'mapping', required: false, description: 'JSON object: field → CSV column, e.g. {"territory":"sales_agent"}' })
  @ApiQuery({ name: 'delimiter', required: false, description: "',' ';' or 'tab'; detected from the first lines when absent" })
  @ApiQuery({ name: 'encoding', required: false, description: 'utf-8, utf-16le, utf-16be or windows-1252; detected (BOM, UTF-8 validity, chardet) when absent' })
  @ApiQuery({ name: 'profile', required: false, description: 'Import profile: pilotlab (default), salesforce, hubspot, snapshot' })
  @ApiQuery({ name: 'worksheet', required: false, description: 'xlsx only: the worksheet to read (by name); the first visible sheet when absent' })
  @ApiQuery({ name: 'source', required: false, description: 'A stored import source (PUT /import-sources/:name): its profile, column map and stage mapping' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  createCsvBatch(
    @Req() req: Request,
    @Query('mapping') mapping: string | undefined,
    @Query('delimiter') delimiter: string | undefined,
    @Query('encoding') encoding: string | undefined,
    @Query('profile') profile: string | undefined,
    @Query('source') source: string | undefined,
    @Query('worksheet') worksheet: unknown,
    @IdempotencyKey() key: string | null,
  ): Promise<BatchAcceptedDto> {
    return this.batches.createFromCsv(req, mapping, key, parseFormatOverride(delimiter, encoding), profile, source, parseWorksheet(worksheet));
  }

  @Post('batches/:id/cancel')
  @HttpCode(200)
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Cancel a queued or processing batch; nothing of it is stored' })
  cancel(@Param('id', uuidParam('id')) id: string) {
    return this.batches.cancel(id);
  }

  @Post('batches/:id/retry')
  @HttpCode(202)
  @Roles('sales_ops')
  @ApiOperation({ summary: 'Run a failed batch again (its staged rows are kept until it completes)' })
  retry(@Param('id', uuidParam('id')) id: string): Promise<BatchAcceptedDto> {
    return this.batches.retry(id);
  }

  @Get('batches/:id')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Batch status: rows accepted, rejected (with row number and reason), progress' })
  status(@Param('id', uuidParam('id')) id: string, @Query() query: BatchStatusQuery) {
    return this.batches.status(id, query);
  }

  @Get(':opportunityId')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'The current version of one opportunity' })
  get(@Param('opportunityId') id: string) {
    return this.opportunities.getView(id);
  }
}

/** `?worksheet=`: one non-empty sheet name (at most 31 characters, Excel's limit), or null. @throws VALIDATION_FAILED */
function parseWorksheet(v: unknown): string | null {
  if (v === undefined || v === '') return null;
  if (typeof v !== 'string' || v.length > 31) {
    throw new AppException('VALIDATION_FAILED', 'worksheet must be one sheet name (at most 31 characters)', [{ path: 'worksheet', errors: ['must be one sheet name of at most 31 characters'] }]);
  }
  return v;
}
