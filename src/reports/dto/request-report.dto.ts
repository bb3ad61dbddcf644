import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';

/**
 * Optional body of POST /pilots/:id/reports: compute the report on earlier data, to reproduce a
 * past report exactly (its `data.data_version` and `data.as_of`).
 */
export class RequestReportDto {
  @ApiPropertyOptional({ description: 'Data version to read (batches committed up to it); default: the latest', example: 12 })
  @IsOptional()
  @IsInt()
  @Min(0)
  data_version?: number;

  @ApiPropertyOptional({ description: 'Source-time cut-off: only opportunity versions with version_at at or before it', example: '2024-06-30T23:59:59Z' })
  @IsOptional()
  @IsString()
  /** An ISO 8601 instant with a zone (checked by ReportsService). */
  as_of?: string;
}
