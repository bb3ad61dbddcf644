import type { UploadDetected } from '../upload-rows';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { IsStringOrNumber } from '../../common/validation/is-numeric-record';

/**
 * One opportunity row. The SHAPE is checked here (unknown fields and wrong JSON types are a 400
 * for the whole request: pitfall P16); the CONTENT (missing id, unknown territory, unparseable
 * amount or date) is checked per row by the ingestion job, which keeps the good rows.
 */
export class OpportunityRowDto {
  @ApiPropertyOptional({ example: 'Q7K2M9X4' }) @IsOptional() @IsString() @MaxLength(1000) opportunity_id?: string | null;
  @ApiPropertyOptional({ example: 'Ada Park', description: 'Territory code (the owner)' })
  @IsOptional() @IsString() @MaxLength(1000) territory?: string | null;
  @ApiPropertyOptional({ example: 'Won', description: 'CRM stage: Prospecting, Engaging, ..., Won, Lost' })
  @IsOptional() @IsString() @MaxLength(1000) stage?: string | null;
  @ApiPropertyOptional({ example: '$1,054.00', description: 'Number or currency string; empty/null = missing' })
  @IsOptional() @IsStringOrNumber() amount?: string | number | null;
  @ApiPropertyOptional({ example: '2016-10-20' }) @IsOptional() @IsString() @MaxLength(100) engage_date?: string | null;
  @ApiPropertyOptional({ example: '2017-03-01' }) @IsOptional() @IsString() @MaxLength(100) close_date?: string | null;
  @ApiPropertyOptional({ example: '2016-10-18T09:30:00Z' }) @IsOptional() @IsString() @MaxLength(100) created_at?: string | null;
  @ApiPropertyOptional({ example: '2017-03-01T17:00:00Z', description: 'Version of this record in the CRM; newest wins' })
  @IsOptional() @IsString() @MaxLength(100) source_updated_at?: string | null;
  @ApiPropertyOptional({ example: 'GTX Plus Basic' }) @IsOptional() @IsString() @MaxLength(1000) product?: string | null;
  @ApiPropertyOptional({ example: 'Acme' }) @IsOptional() @IsString() @MaxLength(1000) account?: string | null;
  @ApiPropertyOptional({ example: 'rep-0042', description: 'The rep who owns the deal; mapped to territories over time (POST /owners/territories)' })
  @IsOptional() @IsString() @MaxLength(1000) owner?: string | null;
  @ApiPropertyOptional({ example: 'EUR', description: 'ISO 4217 code of the amount; absent/empty = the default currency (DEFAULT_CURRENCY, USD)' })
  @IsOptional() @IsString() @MaxLength(100) currency?: string | null;

  // The header aliases a CSV upload accepts (ingestion/column-mapping.ts DEFAULT_HEADER_ALIASES) are
  // accepted as JSON fields too, and mapped the same way: one field contract for CSV and JSON (issue 13).
  @ApiPropertyOptional({ description: 'Alias of opportunity_id' }) @IsOptional() @IsString() @MaxLength(1000) opportunity?: string | null;
  @ApiPropertyOptional({ description: 'Alias of opportunity_id' }) @IsOptional() @IsString() @MaxLength(1000) id?: string | null;
  @ApiPropertyOptional({ description: 'Alias of territory' }) @IsOptional() @IsString() @MaxLength(1000) territory_code?: string | null;
  @ApiPropertyOptional({ description: 'Alias of territory (Maven CRM sample)' }) @IsOptional() @IsString() @MaxLength(1000) sales_agent?: string | null;
  @ApiPropertyOptional({ description: 'Alias of stage' }) @IsOptional() @IsString() @MaxLength(1000) deal_stage?: string | null;
  @ApiPropertyOptional({ description: 'Alias of amount' }) @IsOptional() @IsStringOrNumber() close_value?: string | number | null;
  @ApiPropertyOptional({ description: 'Alias of amount' }) @IsOptional() @IsStringOrNumber() value?: string | number | null;
  @ApiPropertyOptional({ description: 'Alias of engage_date' }) @IsOptional() @IsString() @MaxLength(100) engaged_date?: string | null;
  @ApiPropertyOptional({ description: 'Alias of close_date' }) @IsOptional() @IsString() @MaxLength(100) closed_date?: string | null;
  @ApiPropertyOptional({ description: 'Alias of created_at' }) @IsOptional() @IsString() @MaxLength(100) created_date?: string | null;
  @ApiPropertyOptional({ description: 'Alias of created_at' }) @IsOptional() @IsString() @MaxLength(100) created?: string | null;
  @ApiPropertyOptional({ description: 'Alias of source_updated_at' }) @IsOptional() @IsString() @MaxLength(100) updated_at?: string | null;
  @ApiPropertyOptional({ description: 'Alias of source_updated_at' }) @IsOptional() @IsString() @MaxLength(100) last_modified?: string | null;
  @ApiPropertyOptional({ description: 'Alias of owner (the rep)' }) @IsOptional() @IsString() @MaxLength(1000) owner_id?: string | null;
  @ApiPropertyOptional({ description: 'Alias of owner (the rep)' }) @IsOptional() @IsString() @MaxLength(1000) rep?: string | null;
  @ApiPropertyOptional({ description: 'Alias of owner (the rep)' }) @IsOptional() @IsString() @MaxLength(1000) sales_rep?: string | null;
  @ApiPropertyOptional({ description: 'Alias of owner (the rep)' }) @IsOptional() @IsString() @MaxLength(1000) rep_id?: string | null;
}

/** Body of POST /opportunities/batches. */
export class CreateBatchDto {
  @ApiProperty({ type: [OpportunityRowDto], description: 'At least 1 row; at most BATCH_MAX_ROWS (default 50,000, checked by BatchSizeGuard)' })
  @IsArray()
  @ArrayMinSize(1)
  @IsObject({ each: true, message: 'each row must be a JSON object' })
  @ValidateNested({ each: true })
  @Type(() => OpportunityRowDto)
  rows: OpportunityRowDto[];
}

/** The 202 answer to a batch upload: where to follow its processing. */
export class BatchAcceptedDto {
  @ApiProperty() batch_id: string;
  @ApiProperty() status: string;
  @ApiProperty() rows_received: number;
  @ApiProperty({ description: 'False when Redis was unreachable; the batch is kept and queued later' }) enqueued: boolean;
  @ApiProperty() idempotent_replay: boolean;
  @ApiProperty() status_url: string;
  @ApiProperty({
    required: false,
    description:
      'File uploads only: how the file was read. CSV: {"format":"csv","delimiter":";","encoding":"windows-1252","bom":false,"source":{"delimiter":"header","encoding":"fallback"}}; ' +
      'xlsx: {"format":"xlsx","worksheet":"Opportunities","worksheet_source":"first","worksheets":["Opportunities","Notes"],"header_row":1}',
  })
  detected?: UploadDetected;
}
